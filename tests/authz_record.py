"""Print the authorization matrices as the app answers now, in the tables' format.

For writing the block of a new route or event: copy it into TABLE, then check every cell
against the rules in the test module's docstring before committing it.

    PYTHONPATH=src python tests/authz_record.py rest     # or: sockets
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "realtime"), str(HERE), str(HERE.parent)]


def main(which: str) -> None:
    from flask_migrate import upgrade

    from parley import create_app
    from parley.video.broadcasts import Broadcasts

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/record.db"})
        with app.app_context():
            upgrade()
        broadcasts = app.extensions["parley.video"] = Broadcasts()
        app.config["PARLEY_PRESENCE_GRACE_SECONDS"] = 0.05
        if which == "rest":
            import test_authorization_matrix as matrix
        else:
            import test_authorization_matrix_sockets as matrix  # type: ignore[no-redef]
        print(matrix.record(app, broadcasts))
        for room_id in broadcasts.live_room_ids():
            broadcasts.remove(room_id)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "rest")
