"""The app's changes: each one call into ``naming`` — one event of the history, whose id it gets back and
shows above the next page (``?done=``) with its Undo. Each takes (served, request, form: ``forms.Form``)
and returns where to go next; the action wrapper (``app.make_app``) checked the form and runs them one at
a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request

from indexer.answers import browse
from indexer.errors import IndexerError
from indexer.naming import people
from indexer.naming.drawn import add_face
from indexer.naming.undo import CannotUndo, undo_event
from indexer.web.forms import Form

if TYPE_CHECKING:
    from indexer.web.served import Served


def after(path: str, event: int | None, **query: Any) -> str:
    """``path`` with the event a change made (``?done=``) and ``query``."""
    values = {**query, **({"done": event} if event is not None else {})}
    return path + (f"?{urlencode(values)}" if values else "")


def _who(served: Served, name: str) -> int | str:
    """Whom a name typed means: the id of the person called so, else the name (made when new)."""
    from indexer.answers.people import person_called
    from indexer.naming.names import PersonNotFound

    with served.read() as reader:
        try:
            return person_called(reader, name)[0]
        except PersonNotFound:
            return name


def _person_id(served: Served, name: str) -> int:
    """The id of the person called ``name``; PersonNotFound, naming the closest names, when nobody is."""
    from indexer.answers.people import person_called

    with served.read() as reader:
        return person_called(reader, name)[0]


def rename(served: Served, request: Request, form: Form) -> str:
    person_id = request.path_params["person_id"]
    return after(f"/people/{person_id}", people.rename(served.library, person_id, form.text("name")).event)


def merge(served: Served, request: Request, form: Form) -> str:
    result = people.merge(served.library, request.path_params["person_id"], _person_id(served, form.text("into")))
    return after(f"/people/{result.target_id}", result.event)


def split(served: Served, request: Request, form: Form) -> str:
    person_id, into = request.path_params["person_id"], form.name("into")
    result = people.split(served.library, person_id, form.ids("face"), _who(served, into) if into else None)
    return after(f"/people/{person_id}", result.event)


def name_cluster(served: Served, request: Request, form: Form) -> str:
    result = people.name_cluster(served.library, request.path_params["cluster_id"], _who(served, form.text("name")),
                                 form.ids("except"), include_unsure=form.text("all") == "1")
    return after(f"/people/{result.person_id}", result.event)


def name_face(served: Served, request: Request, form: Form) -> str:
    face_id = request.path_params["face_id"]
    clear, name = form.text("do") == "clear", form.text("name")
    if not clear and not name.strip():
        raise IndexerError("type the person's name, or press Nobody")
    labelled = people.label_face(served.library, face_id, None if clear else _who(served, name))
    with served.read() as reader:
        photo_id = browse.photo_of_face(reader, face_id)
    return after(f"/photos/{photo_id}", labelled.event) + f"#face-{face_id}"


def draw_face(served: Served, request: Request, form: Form) -> str:
    photo_id, name = request.path_params["photo_id"], form.name()
    added = add_face(served.library, photo_id, form.box(), _who(served, name) if name else None, form.seconds("at"))
    return after(f"/photos/{photo_id}", added.event) + f"#face-{added.face_id}"


def answer(served: Served, request: Request, form: Form) -> str:
    faces = form.ids("face")
    if len(faces) != 1:
        raise IndexerError("answer one face at a time")
    face_id, person, reply = faces[0], form.text("person"), form.text("answer")
    with served.read() as reader:
        before = browse.change_marks(reader)
    if reply == "yes":
        answered = people.confirm(served.library, face_id, _who(served, person))
    elif reply == "no":
        answered = people.reject(served.library, face_id, _person_id(served, person))
    else:
        raise IndexerError("answer yes or no")
    with served.read() as reader:
        served.suggestions.answered(face_id, before, browse.change_marks(reader))
    return after("/review", answered.event, offset=form.number("offset") or 0)


def undo(served: Served, request: Request, form: Form) -> str:
    """Undo the change the page showed (``event``): refused when it is not in force or a later change (on
    another page, or from the CLI) touched the same names, so a click never reverts or overwrites something
    the user did not see."""
    event = form.number("event", below=2**63)
    if event is None:
        raise CannotUndo(f"#{form.text('event')[:20]} is no longer the newest change of its names, nor any change "
                         "that can be undone (see the history); nothing was undone")
    return after("/history", undo_event(served.library, event).undo_id)
