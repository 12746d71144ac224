"""`shopops users create|list`: console accounts from the command line."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.console import Console

from shopops.config import get_settings
from shopops.db import make_engine, session_scope

users_app = typer.Typer(help="Console accounts 后台账号.", no_args_is_help=True)
console = Console()


@users_app.command("create")
def create_user(
    username: Annotated[str, typer.Option(help="Sign-in name 登录名")],
    role: Annotated[str, typer.Option(help="admin | operator | analyst | agent")] = "operator",
    password: Annotated[
        str | None, typer.Option(help="Default: a random one, printed once")
    ] = None,
    display_name: Annotated[str, typer.Option(help="Shown in the console 显示名")] = "",
    locale: Annotated[str, typer.Option(help="zh_CN | en")] = "zh_CN",
) -> None:
    """Create a console account 创建后台账号."""
    from shopops.accounts.service import create_console_user
    from shopops.errors import ShopOpsError
    from shopops.migrate import upgrade

    plain = password or secrets.token_urlsafe(12)
    engine = make_engine(get_settings().resolved_database_url)
    upgrade(engine)
    try:
        with session_scope(engine) as s:
            user = create_console_user(
                s,
                username=username,
                role=role,
                password=plain,
                display_name=display_name,
                locale=locale,
            )
            uid = user.id
    except ShopOpsError as exc:
        console.print(f"[red]错误 error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    console.print(f"已创建 created console user #{uid} {username} ({role})")
    if password is None:
        console.print(f"密码 password (shown once): {plain}")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
