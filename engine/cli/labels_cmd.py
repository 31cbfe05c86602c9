"""`t2ipal labels validate|show|list`: check and inspect label-set files and the bundled sets."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("labels", help="check and inspect label sets (files or bundled sets)")
    sub = parser.add_subparsers(dest="labels_command", metavar="ACTION", required=True)

    p = sub.add_parser("validate", help="check label-set files: names, synonyms, hierarchy; exit 1 on problems")
    p.add_argument("files", nargs="+", help="label-set files (.json/.yaml) or bundled set names")
    p.set_defaults(func=_validate)

    p = sub.add_parser("show", help="print a label set: names, prompt wording, parents, synonyms")
    p.add_argument("labelset", help="a label-set file or a bundled set name (see `t2ipal labels list`)")
    p.add_argument("--json", action="store_true", help="print the normalised label-set file instead")
    p.add_argument("--lang", default=None, help="also show the translation for this language code (e.g. de)")
    p.set_defaults(func=_show)

    p = sub.add_parser("list", help="list the bundled label sets")
    p.set_defaults(func=_list)


def _validate(args: argparse.Namespace) -> int:
    from engine.errors import InputError
    from engine.labels.labelset import LabelSet

    status = 0
    for spec in args.files:
        try:
            ls = LabelSet.resolve(spec)
        except InputError as exc:
            print(f"invalid: {exc}", file=sys.stderr)
            status = 1
            continue
        groups = ls.group_count()
        print(f"ok: {spec}: label set {ls.name!r}, {len(ls)} labels, "
              f"{sum(len(lb.synonyms) for lb in ls.labels)} synonyms, {groups} top-level groups")
    return status


def _show(args: argparse.Namespace) -> int:
    from engine.labels.labelset import LabelSet

    ls = LabelSet.resolve(args.labelset)
    if args.json:
        print(json.dumps(ls.to_dict(), ensure_ascii=False, indent=1))
        return 0
    print(f"{ls.name}: {len(ls)} labels" + (f" - {ls.description}" if ls.description else ""))
    for label in ls.labels:
        line = f"  {ls.path(label.name)}"
        if label.prompt_name != label.name:
            line += f"  (prompt: {label.prompt_name})"
        if args.lang:
            line += f"  [{args.lang}: {label.translations.get(args.lang, '-')}]"
        print(line)
        if label.synonyms:
            print(f"      synonyms: {', '.join(label.synonyms)}")
        if label.not_this:
            print(f"      not this: {', '.join(label.not_this)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from engine.labels.labelset import LabelSet

    for name in LabelSet.list_bundled():
        ls = LabelSet.bundled(name)
        print(f"{name:16s} {len(ls):3d} labels  {ls.description}")
    return 0
