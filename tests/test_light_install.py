"""The light install without its models: what names a missing extra, the fixed inputs and the recorded
outputs the built ONNX files are checked against, and what the graph builder refuses. The graphs on the
real weights, and a runtime without the extras, are in tests/test_e2e_light_install.py."""

from __future__ import annotations

import importlib.util

import h5py
import numpy as np
import pytest

from indexer.db.urls import missing_driver
from indexer.errors import ModelUnavailable
from indexer.vision.engines import graphs, reference
from indexer.vision.engines.onnx_files import CASCADE_NETWORKS, facenet_network
from indexer.vision.weights import MODELS, get_model


@pytest.fixture
def not_installed(monkeypatch):
    """Make ``importlib.util.find_spec`` answer None (not installed) for the modules given."""
    real = importlib.util.find_spec
    hidden: set[str] = set()

    def find_spec(name, *args, **kwargs):
        return None if name.split(".")[0] in hidden else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    return hidden.update


def test_a_postgresql_url_without_its_driver_names_the_extra(not_installed):
    assert missing_driver("sqlite:////tmp/indexer.db") is None
    assert missing_driver("postgresql+psycopg://me@db/indexer") is None  # installed here (the tests' extras)
    not_installed({"psycopg", "psycopg2"})
    assert missing_driver("postgresql+psycopg://me@db/indexer") == (
        "database_url names PostgreSQL, whose driver (psycopg) is not installed: pip install 'indexer[postgres]'")
    assert missing_driver("postgresql://me@db/indexer") == (
        "database_url names PostgreSQL through psycopg2, which is not installed: write postgresql+psycopg://… "
        "and pip install 'indexer[postgres]'")
    assert missing_driver("sqlite:////tmp/indexer.db") is None


def test_the_tensorflow_engine_without_tensorflow_names_the_extra(not_installed):
    from indexer.vision.engines.tensorflow import REFERENCE_EXTRA, load_tensorflow

    not_installed({"tensorflow"})
    with pytest.raises(ModelUnavailable) as error:
        load_tensorflow()
    assert str(error.value) == REFERENCE_EXTRA == "the TensorFlow engine needs the reference extra: pip install 'indexer[reference]'"


def test_an_engine_that_does_not_exist_is_bad_usage(run):
    done = run("--engine", "torch", "status", expect=2)
    assert done.stderr.strip() == "indexer: error: --engine 'torch' is none of onnx, tensorflow"


def test_a_scheduler_without_dask_names_the_extra(run, tmp_path, not_installed):
    not_installed({"distributed"})
    done = run("index", str(tmp_path), "--scheduler", "tcp://127.0.0.1:8786", expect=1)
    assert done.stderr.strip() == "indexer: error: --scheduler needs Dask's distributed package: pip install 'indexer[cluster]'"


def test_the_fixed_inputs_are_the_same_on_every_call_and_differ_from_crop_to_crop():
    for role, (batch, height, width) in reference.INPUT_SHAPES.items():
        inputs = reference.fixed_input(role)
        assert inputs.shape == (batch, height, width, 3) and inputs.dtype == np.float32
        assert np.array_equal(inputs, reference.fixed_input(role))
        assert -1 <= inputs.min() < -0.9 and 0.9 < inputs.max() <= 1
        assert all(not np.array_equal(inputs[0], inputs[i]) for i in range(1, batch))


def test_outputs_are_recorded_for_each_network_of_the_default_model_with_its_pinned_weights():
    for network in [*CASCADE_NETWORKS, facenet_network(get_model("facenet128"))]:
        outputs = reference.recorded_outputs(network.name, network.made_from)
        assert outputs is not None and all(np.isfinite(o).all() for o in outputs), network.name
        assert outputs[0].shape[0] == reference.INPUT_SHAPES[network.role][0]
        assert reference.recorded_outputs(network.name, "0" * 64) is None  # other weights: none recorded
    embeddings = reference.recorded_outputs("facenet128", MODELS["facenet128"].sha256)[0]
    assert embeddings.shape == (3, 128) and np.allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)
    assert reference.recorded_outputs("keras-facenet-20180402-114759", MODELS["keras-facenet-20180402-114759"].sha256) is None


def test_outputs_of_another_shape_differ_without_bound():
    same = [np.zeros((2, 4), np.float32)]
    assert reference.largest_difference(same, [np.full((2, 4), 1e-6, np.float32)]) == pytest.approx(1e-6)
    assert reference.largest_difference(same, [np.zeros((2, 5), np.float32)]) == float("inf")
    assert reference.largest_difference(same, [*same, *same]) == float("inf")


def mtcnn_like(role: str, extra: int = 0) -> list[np.ndarray]:
    """Arrays of the shapes the mtcnn package's weights of ``role`` have (random values)."""
    shapes = {
        "propose": [(3, 3, 3, 10), (10,), (1, 1, 10), (3, 3, 10, 16), (16,), (1, 1, 16), (3, 3, 16, 32), (32,),
                    (1, 1, 32), (1, 1, 32, 4), (4,), (1, 1, 32, 2), (2,)],
        "refine": [(3, 3, 3, 28), (28,), (1, 1, 28), (3, 3, 28, 48), (48,), (1, 1, 48), (2, 2, 48, 64), (64,),
                   (1, 1, 64), (576, 128), (128,), (128,), (128, 4), (4,), (128, 2), (2,)],
    }[role]
    rng = np.random.default_rng(1)
    return [rng.normal(0, 0.3, shape).astype(np.float32) for shape in shapes + [(3,)] * extra]


def test_a_cascade_graph_gives_the_layouts_the_tensorflow_network_gives(tmp_path):
    from indexer.vision.engines.onnx import OnnxNetwork

    path = tmp_path / "propose.onnx"
    path.write_bytes(graphs.cascade_graph("propose", mtcnn_like("propose")))
    offsets, probabilities = OnnxNetwork(path).run(np.zeros((2, 31, 45, 3), np.float32))
    # NHWC maps: 31×45 → 3×3 conv 29×43 → 2×2 pool, odd pixel kept ("same") 15×22 → two 3×3 convs 11×18
    assert offsets.shape == (2, 11, 18, 4) and probabilities.shape == (2, 11, 18, 2)
    assert np.allclose(probabilities.sum(axis=-1), 1, atol=1e-6)
    path.write_bytes(graphs.cascade_graph("refine", mtcnn_like("refine")))
    offsets, probabilities = OnnxNetwork(path).run(np.zeros((5, 24, 24, 3), np.float32))
    assert offsets.shape == (5, 4) and probabilities.shape == (5, 2)


def test_weights_that_do_not_fit_the_network_are_refused(tmp_path):
    with pytest.raises(ValueError, match="the refine network's weights hold more arrays than its layers take"):
        graphs.cascade_graph("refine", mtcnn_like("refine", extra=1))
    weights = tmp_path / "other.h5"
    with h5py.File(weights, "w") as h5:
        layer = h5.create_group("Conv2d_1a_3x3")
        layer.attrs["weight_names"] = [b"Conv2d_1a_3x3/kernel:0"]
        layer.create_dataset("Conv2d_1a_3x3/kernel:0", data=np.zeros((3, 3, 3, 32), np.float32))
    with pytest.raises(ModelUnavailable, match="the weights file has no layer 'Conv2d_1a_3x3_BatchNorm': it is not an "
                                               "Inception-ResNet-v1 of keras-facenet's layout"):
        graphs.facenet_graph(weights, 160, 128)


def test_the_graphs_are_the_bytes_the_onnx_package_writes_and_pass_its_checker(tmp_path):
    """indexer writes the protocol-buffer messages itself (``onnx_proto``): the onnx package reads them as
    the models meant, its checker accepts them, and it writes them back byte for byte."""
    import onnx

    for model_bytes, side in [(graphs.cascade_graph("propose", mtcnn_like("propose")), None),
                              (graphs.cascade_graph("refine", mtcnn_like("refine")), 24)]:
        model = onnx.load_from_string(model_bytes)
        onnx.checker.check_model(model, full_check=True)
        assert model.SerializeToString() == model_bytes
        assert [o.name for o in model.graph.output] == (["boxes", "scores"])
        shape = [d.dim_value or d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]
        assert shape == ["n", "height", "width", 3] if side is None else shape == ["n", side, side, 3]
        assert model.opset_import[0].version == 17 and model.ir_version == 8
    conv = onnx.load_from_string(graphs.cascade_graph("refine", mtcnn_like("refine"))).graph.node[1]
    assert conv.op_type == "Conv" and onnx.helper.get_attribute_value(conv.attribute[1]) == [0, 0, 0, 0]
    softmax = [n for n in onnx.load_from_string(graphs.cascade_graph("refine", mtcnn_like("refine"))).graph.node
               if n.op_type == "Softmax"][0]
    assert onnx.helper.get_attribute_value(softmax.attribute[0]) == -1  # a negative int64, ten bytes
