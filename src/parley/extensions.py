"""Extensions, created unbound here and bound to an app in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

from .socket_contexts import SocketIO

# Named constraints let Alembic alter and drop them on every database, SQLite included.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model is mapped to a table (SQLAlchemy types it as any selectable).
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)
# Flask-SQLAlchemy builds db.Model from Base at run time, out of the type checker's sight:
# models subclass Model, which the checker sees as the Base it is built on.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
socketio = SocketIO()
