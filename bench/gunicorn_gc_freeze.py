"""gunicorn settings for `bench/run.py api --gc-freeze`: once a worker has loaded the app, its
objects are frozen, so that the garbage collector's full collections stop re-scanning them."""

import gc


def post_worker_init(worker):
    gc.freeze()
