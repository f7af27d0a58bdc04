"""The pure domain core: grants, the lifecycle, the rules. No I/O, no database, no CLI."""
