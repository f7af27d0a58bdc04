"""The public API is what ``grantflow.__all__`` says; pin it so changes are deliberate."""

import grantflow


def test_all_names_are_unique_and_importable() -> None:
    assert len(set(grantflow.__all__)) == len(grantflow.__all__)
    for name in grantflow.__all__:
        assert hasattr(grantflow, name), name


def test_packaged_guidelines_load() -> None:
    from grantflow.guidelines import BUILTIN, load

    for name in BUILTIN:
        program = load(name)
        assert program.id == name
        assert program.versions
