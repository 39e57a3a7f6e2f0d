"""Validate the charm's YAML files with charmcraft's own models.

Run with the python of the venv that `make check-charm` creates (charmcraft is imported, not
reimplemented):

    .cache/charmcraft-4.5.0/bin/python scripts/check-charm.py [PROJECT_DIR]

It checks, and names file and field for every problem:
  - the all-in-one project charmcraft would see: charmcraft.yaml plus every metadata.yaml field
    (display-name as title, docs/issues/source/website/maintainers as links), config.yaml and
    actions.yaml, validated by charmcraft's project model (PlatformCharm: unknown fields rejected,
    title at most 40 characters, parts validated by their plugins);
  - metadata.yaml with CharmMetadata (what `charmcraft pack` writes into the charm);
  - config.yaml with JujuConfig (option types; a secret option's default must be a secret URI);
  - actions.yaml with JujuActions' rules.
Exit status 1 when anything is invalid.
"""

import keyword
import pathlib
import sys

import pydantic
import yaml

import charmcraft
from craft_cli import CraftError
from charmcraft.models.actions import JujuActions
from charmcraft.models.config import JujuConfig
from charmcraft.models.metadata import CharmMetadata
from charmcraft.models.project import CharmcraftProject
from charmcraft.parts import process_part_config

# metadata.yaml fields that the all-in-one charmcraft.yaml names differently.
RENAMED = {"display-name": ("title",)}
LINKS = {
    "docs": ("links", "documentation"),
    "issues": ("links", "issues"),
    "source": ("links", "source"),
    "website": ("links", "website"),
    "maintainers": ("links", "contact"),
}
FILES = ("charmcraft.yaml", "metadata.yaml", "config.yaml", "actions.yaml")


class Problems:
    """Every problem found, each naming its file and field."""

    def __init__(self):
        self.items = []

    def add(self, file, field, message):
        where = f"{file}: {field}" if field else file
        self.items.append(f"{where}: {message}")

    def add_pydantic(self, err, locate):
        """Adds each error of a pydantic ValidationError; locate maps its loc to (file, field)."""
        for e in err.errors():
            file, field = locate(tuple(str(p) for p in e["loc"]))
            message = e["msg"]
            if e.get("input") is not None and not isinstance(e["input"], (dict, list)):
                shown = repr(e["input"])
                message += f" (got {shown[:80]}{'...' if len(shown) > 80 else ''})"
            self.add(file, field, message)


class PartsFiltered:
    """A ValidationError without its errors about parts."""

    def __init__(self, err):
        self.err = err

    def errors(self):
        return [e for e in self.err.errors() if not e["loc"] or e["loc"][0] != "parts"]


def load(directory, name, problems):
    try:
        data = yaml.safe_load((directory / name).read_text())
    except FileNotFoundError:
        problems.add(name, "", "missing")
        return None
    except yaml.YAMLError as exc:
        problems.add(name, "", f"not valid YAML: {exc}")
        return None
    if not isinstance(data, dict):
        problems.add(name, "", f"must be a mapping, not {type(data).__name__}")
        return None
    return data


def project_dict(charmcraft_yaml, metadata, config, actions, problems):
    """The all-in-one charmcraft.yaml equivalent, and where each of its top-level keys came from."""
    data = dict(charmcraft_yaml)
    origin = {key: ("charmcraft.yaml", (key,)) for key in data}
    for key, value in metadata.items():
        path = RENAMED.get(key) or LINKS.get(key) or (key,)
        if path[0] in data and path[0] != "links":
            problems.add("metadata.yaml", key, f"also set in charmcraft.yaml (as {path[0]!r})")
            continue
        if len(path) == 1:
            data[path[0]] = value
        else:
            data.setdefault(path[0], {})[path[1]] = value
        origin[(path[0], path[1]) if len(path) > 1 else path[0]] = ("metadata.yaml", (key,))
    for key, value, file in (("config", config, "config.yaml"), ("actions", actions, "actions.yaml")):
        if key in data:
            problems.add("charmcraft.yaml", key, f"must not be set while {file} exists")
        data[key] = value
        origin[key] = (file, ())
    return data, origin


def project_locator(origin):
    def locate(loc):
        if not loc:
            return "charmcraft.yaml", ""
        if loc[0] == "links" and len(loc) > 1 and ("links", loc[1]) in origin:
            file, path = origin[("links", loc[1])]
            return file, ".".join(path + loc[2:])
        if loc[0] in origin:
            file, path = origin[loc[0]]
            return file, ".".join(path + loc[1:])
        return "charmcraft.yaml", ".".join(loc)

    return locate


def check_parts(charmcraft_yaml, problems):
    """Each part through charmcraft's own part validation (its plugin's properties and the
    common part properties), so that a fault names its part; the project model says only
    `parts.<field>`. Returns whether any part is invalid."""
    parts = charmcraft_yaml.get("parts")
    if not isinstance(parts, dict):
        return False
    found = False
    for name, part in parts.items():
        if not isinstance(part, dict):
            continue  # the project model says so
        try:
            process_part_config({"plugin": name, **part})
        except pydantic.ValidationError as err:
            problems.add_pydantic(err, lambda loc: ("charmcraft.yaml", ".".join(("parts", name) + loc)))
            found = True
        except Exception as err:  # unknown plugin, missing plugin, ...
            problems.add("charmcraft.yaml", f"parts.{name}", str(err))
            found = True
    return found


def check_actions(actions, problems):
    """JujuActions' rules. In charmcraft 4.5.0 the model cannot validate any non-empty actions
    (its name regex is a pydantic private attribute, so `.match` fails with AttributeError), so
    its rules are applied here, with the model's own regex, when the model itself breaks."""
    try:
        JujuActions.model_validate({"actions": actions})
        return
    except pydantic.ValidationError as err:
        problems.add_pydantic(err, lambda loc: ("actions.yaml", ".".join(loc[1:])))
        return
    except AttributeError:
        pass  # the charmcraft bug above
    regex = JujuActions.__private_attributes__["_action_name_regex"].default
    for name, action in actions.items():
        if keyword.iskeyword(name):
            problems.add("actions.yaml", name, "a reserved keyword cannot be an action name")
        elif regex.match(name) is None:
            problems.add("actions.yaml", name, f"not a valid action name ({regex.pattern})")
        if not isinstance(action, dict):
            problems.add("actions.yaml", name, "must be a mapping")
        elif "description" not in action:
            problems.add("actions.yaml", name, "missing a description")


def main():
    directory = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems = Problems()
    charmcraft_yaml, metadata, config, actions = (load(directory, f, problems) for f in FILES)

    if charmcraft_yaml is not None and metadata is not None and config is not None and actions is not None:
        data, origin = project_dict(charmcraft_yaml, metadata, config, actions, problems)
        bad_parts = check_parts(charmcraft_yaml, problems)
        try:
            CharmcraftProject.unmarshal(data)
        except pydantic.ValidationError as err:
            locate = project_locator(origin)
            if bad_parts:  # said above, with the part's name
                err = PartsFiltered(err)
            problems.add_pydantic(err, locate)
        except (ValueError, TypeError) as err:
            problems.add("charmcraft.yaml", "", str(err))
        except CraftError as err:
            problems.add("charmcraft.yaml", "", f"{err} {err.details or ''}".strip())

    if metadata is not None:
        try:
            CharmMetadata.model_validate(metadata)
        except pydantic.ValidationError as err:
            problems.add_pydantic(err, lambda loc: ("metadata.yaml", ".".join(loc)))

    if config is not None:
        try:
            JujuConfig.model_validate(config)
        except pydantic.ValidationError as err:
            problems.add_pydantic(err, lambda loc: ("config.yaml", ".".join(loc)))

    if actions is not None:
        check_actions(actions, problems)

    # The project model and CharmMetadata may both report one fault; say it once.
    seen = set()
    unique = [p for p in problems.items if not (p in seen or seen.add(p))]
    if unique:
        for p in unique:
            print(f"check-charm: {p}", file=sys.stderr)
        print(f"check-charm: {len(unique)} problem(s) (charmcraft {charmcraft.__version__} models)",
              file=sys.stderr)
        return 1
    print(f"check-charm: {', '.join(FILES)} valid for charmcraft {charmcraft.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
