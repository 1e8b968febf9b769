"""The NKR item names an import reads, and an item map that renames them.

Every item name can be changed with an item map (YAML or CSV: key → column name), so a differently named extract
reads without code changes; docs/importers.md lists every key.
"""

from __future__ import annotations

from pathlib import Path

from oligo_cohort.column_names import HEADER_REPEATED, repeats_header
from oligo_cohort.counts_in_words import names_of
from oligo_cohort.errors import UsageError
from oligo_cohort.problems import shortened
from oligo_cohort.user_files import UserFileProblem, read_delimited
from oligo_cohort.yaml_input import load_yaml_file

# Key → item name. `{n}` marks numbered items (1, 2, ... until a number is absent from the file).
DEFAULT_ITEMS: dict[str, str] = {
    "patient_id": "key_nkr",
    "tumour_key": "key_zid",
    "episode": "epis",
    "sex": "gesl",
    "birth_date": "gebdat",
    "age": "leeft",
    "incidence_date": "incdat",
    "incidence_year": "incjr",
    "topography": "topo_sublok",
    "morphology": "morf",
    "behaviour": "gedrag",
    "basis": "diag_basis",
    "cm": "cm",
    "pm": "pm",
    "vital_status": "vit_stat",
    "vital_status_date": "vit_stat_dat",
    "vital_status_interval": "vit_stat_int",
    "hospital": "ziekenhuis",
    "metastatic_episode": "meta_epis",
    "metastasis_site": "meta_topo_sublok{n}",
    "metastasis_interval": "meta_int{n}",
    "metastasis_date": "meta_dat{n}",
    "drug_code": "syst_code{n}",
    "drug_start_interval": "syst_start_int{n}",
    "drug_stop_interval": "syst_stop_int{n}",
    "drug_start_date": "syst_start_dat{n}",
    "drug_stop_date": "syst_stop_dat{n}",
    "drug_regimen": "syst_schemanum{n}",
    "chemotherapy": "chemo",
    "radiotherapy": "rt",
    "performance_status": "perf_stat",
    "performance_status_interval": "perf_stat_int",
    "response": "respons_uitslag",
    "response_interval": "respons_int",
    "response_date": "respons_dat",
    "prior_site": "mal{n}_topo_sublok",
    "prior_morphology": "mal{n}_morf",
    "prior_interval": "mal{n}_int",
}
MAX_NUMBERED = 30


def load_item_map(path: str | Path | None) -> dict[str, str]:
    """The default item names, with those in `path` (YAML mapping or CSV `key,item`) replacing them.

    A YAML file is read as every YAML file a user gives is (`oligo_cohort.yaml_input`: no tags, anchors or keys
    given twice; `0x1F` stays the text it is); a CSV file as every file a user gives is (`oligo_cohort.user_files`),
    each line a key and an item name (a first line `key,item` is the header), a key given twice refused; a column
    the map gives two keys (`hospital: gesl`, where `gesl` is the sex) is refused too.
    """
    if path is None:
        return dict(DEFAULT_ITEMS)
    return item_names(given_items(path), f"--items {Path(path)}")


def given_items(path: str | Path) -> dict[str, str]:
    """The key → item name pairs an item map gives (names trimmed, lower case), each key known and each name one a
    column can have; `load_item_map` reads them into the default names."""
    file = Path(path)
    label = f"--items {file}"
    if file.suffix.lower() == ".csv":
        pairs = _item_pairs_from_csv(file, label)
    else:
        loaded = load_yaml_file(file, label)
        if loaded is None:
            loaded = {}  # an empty file changes no name
        if not isinstance(loaded, dict):
            raise UsageError(f"{label}: expected a mapping of key: item name")
        odd = [str(k) for k, v in loaded.items() if isinstance(v, bool) or not isinstance(v, str | int)]
        if odd:  # a list, a mapping, yes/no: no item name, and never turned into text
            raise UsageError(f"{label}: {', '.join(odd)}: expected an item name")
        pairs = {str(k): str(v) for k, v in loaded.items()}
    unknown = sorted(set(pairs) - set(DEFAULT_ITEMS))
    if unknown:
        raise UsageError(f"{label}: unknown {names_of('key', unknown)}; known: {', '.join(DEFAULT_ITEMS)}")
    given: dict[str, str] = {}
    for key, value in pairs.items():
        if not value.strip():
            raise UsageError(f"{label}: {key}: the item name is empty")
        if ("{n}" in DEFAULT_ITEMS[key]) != ("{n}" in value):
            raise UsageError(
                f"{label}: {key} is a numbered item; its name must {'' if '{n}' in DEFAULT_ITEMS[key] else 'not '}contain {{n}}"
            )
        given[key] = value.strip().lower()
    return given


def item_names(given: dict[str, str], label: str) -> dict[str, str]:
    """The default item names with those `given` replacing them; a column that would be read for two keys is
    refused (which item it holds cannot be known: `hospital: gesl` would read the sex code as the hospital)."""
    items = dict(DEFAULT_ITEMS) | given
    keys_of: dict[str, list[str]] = {}
    for key, name in items.items():
        keys_of.setdefault(name, []).append(key)
    twice = [(name, keys) for name, keys in keys_of.items() if len(keys) > 1]
    if twice:
        raise UsageError(
            f"{label}: "
            + "; ".join(f"column {name!r} is given for {' and '.join(keys)}" for name, keys in twice)
            + ": a column holds one item (give the other key its own column)"
        )
    return items


def _item_pairs_from_csv(file: Path, label: str) -> dict[str, str]:
    """`key,item` lines of an item map in CSV; every line that is not a key and a name, and every key given
    twice, is named by its line."""
    try:
        read = read_delimited(file, headed=False)  # the first line is a header only when it is `key,item`
    except UserFileProblem as exc:
        raise UsageError(f"{label}: {exc.reason}") from None
    lines = [(read.header_line, read.header), *((record.line, record.fields) for record in read.records)]
    headed = [cell.strip().lower() for cell in read.header] == ["key", "item"]
    if headed:
        lines = lines[1:]
    pairs: dict[str, str] = {}
    at: dict[str, int] = {}
    problems = []
    for line, fields in lines:
        cells = [cell.strip() for cell in fields]
        if headed and repeats_header(fields, read.header):
            problems.append(f"line {line:,} {HEADER_REPEATED}")
        elif len(cells) != 2 or "\x00" in "".join(cells):
            problems.append(f"line {line}: expected a key and an item name, found {shortened(','.join(cells))!r}")
        elif cells[0] in pairs:
            problems.append(f"line {line}: key {cells[0]!r} is given again (first on line {at[cells[0]]})")
        else:
            pairs[cells[0]], at[cells[0]] = cells[1], line
    if problems:
        raise UsageError(f"{label}: " + "; ".join(problems[:20]))
    return pairs
