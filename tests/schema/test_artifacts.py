"""The committed SDL and README matrix are generated from the code; drift fails here."""

import pytest

from permissions.principal import Role
from schema.artifacts import README, readme_with_matrix
from schema.build import sdl_for, sdl_path


@pytest.mark.parametrize("role", list(Role))
def test_committed_sdl_matches_the_code(role: Role) -> None:
    committed = sdl_path(role).read_text(encoding="utf-8")
    assert committed == sdl_for(role), f"run `make sdl`: schema/sdl/{role.value}.graphql drifted"


def test_readme_role_matrix_matches_the_policy_table() -> None:
    readme = README.read_text(encoding="utf-8")
    assert readme == readme_with_matrix(readme), "run `make sdl`: README role matrix is stale"


def test_export_schema_prints_the_roles_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    main(["export-schema", "--role", "client"])
    assert capsys.readouterr().out == sdl_for(Role.CLIENT)
