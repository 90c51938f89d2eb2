"""Events, their citations, and every row derived from them.

Importing the package, which anything that uses events' tables does, has the history tell
`derived.follow` of every revision, so that what events show follows the actors, programs and
sources they name whoever writes those: the API, the CLI, the seed loader, a test calling a
service directly.
"""

from app.events import derived
from app.history.service import follow

follow(derived.follow)
