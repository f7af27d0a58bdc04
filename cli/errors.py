"""One table maps grantflow's error tree to the CLI's documented exit codes.

=====  ===============================================================================
code   meaning
=====  ===============================================================================
0      done
1      refused: a rule, a role, the four-eyes principle or the lifecycle said no
2      bad input or usage: unknown grant/program/actor, malformed amount or date, ...
3      integrity failure: a broken audit chain, a database schema newer than this code
4      conflict: another user changed the same grant or budget at the same moment;
       nothing was written, running the command again is safe
=====  ===============================================================================
"""

from __future__ import annotations

from grantflow.errors import (
    BadInput,
    ConcurrentUpdate,
    GrantflowError,
    IntegrityFailure,
    Refused,
)

OK = 0
REFUSED = 1
BAD_INPUT = 2
INTEGRITY = 3
CONFLICT = 4

EXIT_CODES: dict[type[GrantflowError], int] = {
    Refused: REFUSED,
    BadInput: BAD_INPUT,
    IntegrityFailure: INTEGRITY,
    ConcurrentUpdate: CONFLICT,
}


def exit_code_for(error: GrantflowError) -> int:
    """The exit code of the most specific class in :data:`EXIT_CODES` the error belongs to."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return BAD_INPUT
