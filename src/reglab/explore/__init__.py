"""``reglab explore``: a live playground for regularization in the browser, several λ side by side, on real data.

A local web application (the ``explore`` extra: Starlette, uvicorn, websockets) on the existing engine:

- :mod:`~reglab.explore.datasets`: TensorFlow Playground's 2-D sets as data files, the data directory's listing;
- :mod:`~reglab.explore.settings`: what a request may ask for, checked by the CLI's rules and the playground's limits;
- :mod:`~reglab.explore.session`: one run, trained a chunk of mini-batches at a time on the engine's steps;
- :mod:`~reglab.explore.snapshot`: compact snapshots for the page;
- :mod:`~reglab.explore.worker`: the background thread that trains, applies changes and publishes snapshots;
- :mod:`~reglab.explore.figures` and :mod:`~reglab.explore.export`: the report and the run folder;
- :mod:`~reglab.explore.server`: the routes, the websocket stream and the origin checks; ``static/``: the page.

Only :mod:`~reglab.explore.server` imports the web libraries.
"""
