"""The app's pages, one module per family: ``pages`` (home, people, clusters, history, errors, names, static
files), ``photos`` (a photo with its faces, its preview, face pictures), ``review`` (the review queue). Each
view reads through ``answers.browse`` in one consistent read and renders the gallery's templates."""
