"""One :class:`~reglab.config.TrainConfig` → one run: trained models, their summary and their folder.

``assemble``  the configuration's pieces (data, model, regularizer, optimizer) and the call of ``fit``
``summary``   the finished run as JSON-ready data (``--json``, ``summary.json``)
``folder``    the run folder, each file written atomically, ``summary.json`` last
``plots``     the run's figures, pure functions of its history
"""
