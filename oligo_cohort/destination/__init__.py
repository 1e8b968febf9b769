"""Where outputs go: only what this tool wrote is ever replaced, never an input, and always all at once.

Every command writes through this package: a folder (`OutputFolder`: screen,
attrition, report, accrual, import, synth, review export and import) or a
single file (`OutputFile`: `--problems FILE`, `dictionary --out FILE`). The
rules:

- **A marker says what wrote a folder.** Each output folder holds
  `.oligo-cohort-output.json`: the tool, its version, the kind of output
  (`screen`, `attrition`, …), every file and folder it wrote and each file's
  SHA-256. A destination folder that exists and is not empty is replaced only
  when its marker says it is an earlier output of the same kind, it holds
  nothing but what the marker lists, and every file in it is as it was
  written. Anything else is refused (exit 2) with the reason: files a user
  added or changed are named, and never deleted. Operating-system litter
  (`.DS_Store`, `Thumbs.db`, `desktop.ini`) does not count as a user's file.
  A file merely named like a result file (`manifest.json`) proves nothing; a
  damaged marker, a marker of an earlier version (no checksums) or a folder
  without one (see `legacy_listing`) is refused, saying so.
- **Never an input.** A destination that is an input, holds one or lies inside
  an input folder is refused; paths are compared with symbolic links resolved.
- **Decided before the work.** A command claims its destination first
  (`with OutputFolder(...) as out:`): the checks run, missing parent folders
  are made, and a lock is taken, before the extract is even read; a refusal
  costs nothing.
- **All or nothing.** Files are written into a staging folder beside the
  destination, with the user's normal permissions (umask); the marker is
  written last, then the folder is renamed into place. An earlier output is
  moved aside first and deleted only after the new one is in place, and only
  when it still holds nothing but what its marker lists, as written. An error,
  Ctrl-C or SIGTERM removes the staging folder; a full or read-only disk is a
  message (exit 2), and the earlier output stays as it was.
- **One writer at a time.** The lock (`.<name>.oligo-cohort.lock` beside the
  destination, `flock`) is held from the claim to the end: a second run
  writing the same destination stops at once with exit 2. Where the file
  system has no locks, the final renames still detect a concurrent winner.

The package, one module per job: `markers` (what wrote a folder, what it holds
beyond that or changed in it), `legacy` (folders without a marker),
`placement` (never an input; the parent folders), `failures` (refusals, and a
full or read-only disk), `folder` (`OutputFolder`, `staged_output`) and `file`
(`OutputFile`, `starts_with_line`).
"""

from oligo_cohort.destination.failures import DestinationError, write_failure
from oligo_cohort.destination.file import OutputFile, starts_with_line
from oligo_cohort.destination.folder import OutputFolder, staged_output
from oligo_cohort.destination.legacy import legacy_listing
from oligo_cohort.destination.markers import (
    KINDS,
    MARKER,
    Marker,
    folder_entries,
    foreign_entries,
    write_marker,
)
from oligo_cohort.destination.markers import OS_LITTER as OS_LITTER  # outside __all__, as before
from oligo_cohort.destination.placement import Protected, resolved

__all__ = [
    "KINDS",
    "MARKER",
    "DestinationError",
    "Marker",
    "OutputFile",
    "OutputFolder",
    "Protected",
    "folder_entries",
    "foreign_entries",
    "legacy_listing",
    "resolved",
    "staged_output",
    "starts_with_line",
    "write_failure",
    "write_marker",
]
