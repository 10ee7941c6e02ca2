"""Sign in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, login_manager
from ..models import Role, User
from .forms import LoginForm

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in user; a deactivated user is signed out at their next request."""
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def home_for(user: User) -> str:
    """Where a user lands after signing in."""
    if user.role_enum in (Role.director, Role.admin):
        return url_for("rollup.index")            # day 2: the roll-up of their divisions
    if user.role_enum == Role.manager:
        return url_for("team.index")
    if user.role_enum == Role.rep:
        return url_for("me.index")                # their own month
    return url_for("catalog.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.execute(db.select(User).where(User.username == form.username.data.strip())).scalar_one_or_none()
        if user is None or not user.check_password(form.password.data) or not user.active:
            flash("Unknown username or wrong password.", "error")
        else:
            login_user(user, remember=form.remember.data)
            target = request.args.get("next", "")
            parts = urlsplit(target)
            if not target or parts.netloc or parts.scheme or not target.startswith("/"):
                target = home_for(user)       # never redirect off-site
            return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
def root():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))
