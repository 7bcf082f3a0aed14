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
    """Rename the person; to a name somebody else has, the page that offers to merge them instead."""
    person_id = request.path_params["person_id"]
    other = _who(served, form.text("name"))
    if isinstance(other, int) and other != person_id:
        return f"/people/{person_id}/merge?into={other}"
    return after(f"/people/{person_id}", people.rename(served.library, person_id, form.text("name")).event)


def merge(served: Served, request: Request, form: Form) -> str:
    into = form.number("into_id", below=2**63)
    result = people.merge(served.library, request.path_params["person_id"],
                          into if into is not None else _person_id(served, form.text("into")))
    return after(f"/people/{result.target_id}", result.event)


def show_person(served: Served, request: Request, form: Form) -> str:
    """Keep the person out of the lists (``shown`` 0), or show them again (1)."""
    person_id = request.path_params["person_id"]
    people.show_person(served.library, person_id, form.text("shown") == "1")
    return f"/people/{person_id}"


def cover(served: Served, request: Request, form: Form) -> str:
    """Show the person by the face chosen (``face``)."""
    person_id, faces = request.path_params["person_id"], form.ids("face")
    if len(faces) != 1:
        raise IndexerError("choose one face to show them by")
    people.choose_cover(served.library, person_id, faces[0])
    return f"/people/{person_id}"


def split(served: Served, request: Request, form: Form) -> str:
    person_id, into = request.path_params["person_id"], form.name("into")
    result = people.split(served.library, person_id, form.ids("face"), _who(served, into) if into else None)
    return after(f"/people/{person_id}", result.event)


def name_cluster(served: Served, request: Request, form: Form) -> str:
    """Name the cluster; then on to the next cluster (the largest left), after the last to the faces nobody
    named — or back to the person's page it was named from (``back`` = "person")."""
    result = people.name_cluster(served.library, request.path_params["cluster_id"], _who(served, form.text("name")),
                                 form.ids("except"), include_unsure=form.text("all") == "1")
    if form.text("back") == "person":
        return after(f"/people/{result.person_id}", result.event)
    with served.read() as reader:
        _, largest = browse.clusters_page(reader, 1, 1)
    return after(f"/clusters/{largest[0].cluster_id}" if largest else "/faces/unnamed", result.event)


def name_unnamed(served: Served, request: Request, form: Form) -> str:
    """The faces ticked on the page of faces nobody named (``face``): named ``name`` together (``do`` =
    "name"), each after its guess ("accept"), or said to be no faces ("dismiss"); one event."""
    faces, do = form.ids("face"), form.text("do")
    if not faces:
        raise IndexerError("tick the faces first")
    if do == "name":
        if not form.text("name").strip():
            raise IndexerError("type the person's name for the faces ticked")
        event = people.label_faces(served.library, faces, _who(served, form.text("name")))[0].event
    elif do == "accept":
        with served.read() as reader:
            likeness = served.suggestions.likeness(browse.change_marks(reader))
        guesses = likeness.guesses if likeness is not None else {}
        unguessed = [face for face in faces if face not in guesses]
        if unguessed:
            raise IndexerError(f"face {unguessed[0]} has no guess (yet): name it instead")
        event = people.name_faces(served.library, {face: guesses[face].person_id for face in faces})[0].event
    elif do == "dismiss":
        event = people.not_a_face(served.library, faces).event
    else:
        raise IndexerError("name the faces, give them their guesses, or say they are no faces")
    return after("/faces/unnamed", event, page=form.number("page") or 1)


def name_face(served: Served, request: Request, form: Form) -> str:
    face_id = request.path_params["face_id"]
    do, name = form.text("do"), form.text("name")
    if do == "dismiss":
        event = people.not_a_face(served.library, [face_id]).event
    elif do == "clear" or name.strip():
        event = people.label_face(served.library, face_id, None if do == "clear" else _who(served, name)).event
    else:
        raise IndexerError("type the person's name, or press Nobody")
    with served.read() as reader:
        photo_id = browse.photo_of_face(reader, face_id)
    context = form.text("in")[:4000]
    return after(f"/photos/{photo_id}", event, **({"in": context} if context else {})) + f"#face-{face_id}"


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


def train(served: Served, request: Request, form: Form) -> str:
    """Start training in the background (``web.training``); its page shows how it goes."""
    served.training.start()
    return "/train"


def undo(served: Served, request: Request, form: Form) -> str:
    """Undo the change the page showed (``event``): refused when it is not in force or a later change (on
    another page, or from the CLI) touched the same names, so a click never reverts or overwrites something
    the user did not see."""
    event = form.number("event", below=2**63)
    if event is None:
        raise CannotUndo(f"#{form.text('event')[:20]} is no longer the newest change of its names, nor any change "
                         "that can be undone (see the history); nothing was undone")
    return after("/history", undo_event(served.library, event).undo_id)
