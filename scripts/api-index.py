#!/usr/bin/env python3
"""Writes docs/api.md: every public type and extension method of the packages (Microsoft.ML.DiffNft.Rarity,
Microsoft.ML.DiffNft and Microsoft.ML.DiffNft.Cluster), grouped by package and area, one line each, from the sources (which types are public) and the
XML documentation files (their summaries).

    dotnet build src/Microsoft.ML.DiffNft && python3 scripts/api-index.py

The test ApiIndexTests checks that docs/api.md names every exported type, so rerun this after adding public API.
"""
import glob
import html
import os
import re
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = [
    ("Microsoft.ML.DiffNft.Rarity", "collections and trait rarity, with ML.NET alone"),
    ("Microsoft.ML.DiffNft", "diffusion, the rarity reward, fine-tuning, evaluation, the quickstart and sweeps"),
    ("Microsoft.ML.DiffNft.Cluster", "fine-tuning and sweeps on a Microsoft Orleans cluster (docs/scale-out.md)"),
]
OUT = os.path.join(ROOT, "docs", "api.md")

AREAS = [
    ("(Microsoft.ML)", "The `mlContext.Transforms.DiffNft` catalog and the other ML.NET entry points"),
    ("", "Package root"),
    ("Collections", "Collections: formats, tokens, traits, captions"),
    ("Collections.Nouns", "The built-in Nouns collection: art, generator, renderer, trait decoder"),
    ("Rarity", "Trait rarity"),
    ("Imaging", "Images: RGBA, PNG, tensors, contact sheets, atomic files"),
    ("Torch", "TorchSharp runtime: devices, threads, seeds, model archives"),
    ("Diffusion", "Diffusion models: UNet, schedules, training, generation"),
    ("Reward", "Rewards: the rarity Vision Transformer, fidelity, weighted sums, loading"),
    ("FineTuning", "RL fine-tuning: PPO with exact KL, reward backpropagation, LoRA"),
    ("Evaluation", "Evaluation: FID/KID with ResNet-18, decoder-based rarity, novelty, duplicates"),
    ("TraitClassification", "The trait classifier: reading a collection's traits from pixels"),
    ("Pipeline", "The quickstart pipeline and bundled models"),
    ("Benchmarks", "Benchmarks"),
]

TYPE_RE = re.compile(r"^(    )?public\s+(?:(?:sealed|static|abstract|readonly|partial|unsafe)\s+)*(class|record struct|record class|record|struct|enum|interface)\s+([A-Za-z_][A-Za-z0-9_]*)")
NS_RE = re.compile(r"^namespace\s+([A-Za-z0-9_.]+)\s*;", re.M)
EXT_RE = re.compile(r"^\s+public\s+static\s+[^=(]+?\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:<[^>]*>)?\s*\(\s*this\s+([A-Za-z_][A-Za-z0-9_.<>]*)")
EXT_BLOCK_RE = re.compile(r"^\s+extension\s*\(\s*([A-Za-z_][A-Za-z0-9_.<>]*)\s+[A-Za-z_][A-Za-z0-9_]*\s*\)")
EXT_MEMBER_RE = re.compile(r"^\s+public\s+(?:static\s+)?[^=(]+?\s+([A-Za-z_][A-Za-z0-9_]*)\s*(\(|$|\{)")


def summaries(package):
    src = os.path.join(ROOT, "src", package)
    xml_files = glob.glob(os.path.join(src, "bin", "*", "net10.0", package + ".xml"))
    if not xml_files:
        sys.exit("Build the library first (dotnet build src/Microsoft.ML.DiffNft): its XML documentation file is needed.")
    xml_file = max(xml_files, key=os.path.getmtime)
    result = {}
    for member in ET.parse(xml_file).getroot().iter("member"):
        summary = member.find("summary")
        if summary is None:
            continue
        text = "".join(render(summary)).strip()
        result[member.get("name")] = re.sub(r"\s+", " ", text)
    return result


def render(element):
    if element.text:
        yield element.text
    for child in element:
        if child.tag in ("see", "seealso"):
            ref = child.get("cref") or child.get("langword") or child.get("href") or ""
            name = ref.split(":")[-1].split("(")[0].split(".")[-1].split("`")[0] if child.get("cref") else ref
            yield "`" + (child.text or name) + "`"
        elif child.tag in ("c", "paramref", "typeparamref"):
            yield "`" + (child.text or child.get("name") or "") + "`"
        else:
            yield from render(child)
        if child.tail:
            yield child.tail


def first_sentence(text):
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    line = match.group(1) if match else text
    return line.replace("|", "\\|")


def scan(package):
    """The public types (area -> [(name, kind, summary)]) and extension members of one package's sources."""
    docs = summaries(package)
    src = os.path.join(ROOT, "src", package)
    types = {}      # area -> [(name, kind, summary)]
    extensions = []  # (area, receiver, name, summary, declaring type)
    for path in sorted(glob.glob(os.path.join(src, "**", "*.cs"), recursive=True)):
        if os.sep + "obj" + os.sep in path or os.sep + "bin" + os.sep in path:
            continue
        source = open(path, encoding="utf-8").read()
        ns_match = NS_RE.search(source)
        if not ns_match:
            continue
        ns = ns_match.group(1)
        area = ns[len("Microsoft.ML.DiffNft"):].lstrip(".") if ns.startswith("Microsoft.ML.DiffNft") else f"({ns})"
        declaring = None
        receiver = None
        for line in source.splitlines():
            m = TYPE_RE.match(line)
            if m:
                nested, kind, name = m.group(1), m.group(2), m.group(3)
                if nested:
                    if declaring is None:
                        continue
                    name = f"{declaring.split('.')[0]}.{name}"   # a public type nested in a public type
                else:
                    declaring = name
                summary = next((docs[k] for k in (f"T:{ns}.{name}", f"T:{ns}.{name}`1", f"T:{ns}.{name}`2") if k in docs), "")
                entry = (name, kind.replace("record class", "record"), first_sentence(summary))
                if not any(t[0] == name for t in types.get(area, [])):   # partial types span files
                    types.setdefault(area, []).append(entry)
                continue
            if re.match(r"^(internal|file)\s.*\b(class|record|struct|enum|interface)\s", line):
                declaring = None   # members of a non-public type are not API
                receiver = None
                continue
            b = EXT_BLOCK_RE.match(line)
            if b:
                receiver = b.group(1)
                continue
            e = EXT_RE.match(line)
            if e and declaring:
                name, recv = e.group(1), e.group(2)
                key = next((k for k in docs if k.startswith(f"M:{ns}.{declaring}.{name}(")), None)
                extensions.append((area, recv, name, first_sentence(docs.get(key, "")) if key else "", declaring))
                continue
            if receiver and declaring and line.startswith("        public "):
                em = EXT_MEMBER_RE.match(line)
                if em:
                    name = em.group(1)
                    # C# 14 extension properties are documented under a generated grouping type: P:NS.Type.<G>$HASH.Name
                    key = next((k for k in docs if re.match(rf"[MP]:{re.escape(ns)}\.{declaring}\.(<G>\$[0-9A-F]+\.)?{name}(\(|$)", k)), None)
                    extensions.append((area, receiver, name, first_sentence(docs.get(key, "")) if key else "", declaring))

    return types, extensions


def main():
    scanned = [(package, what) + scan(package) for package, what in PACKAGES]
    lines = [
        "# API index",
        "",
        "Every public type of the packages and every extension they add to ML.NET, grouped by package and area, with",
        "the first sentence of its documentation. `Microsoft.ML.DiffNft.Rarity` needs ML.NET alone; `Microsoft.ML.DiffNft`",
        "depends on it, and `Microsoft.ML.DiffNft.Cluster` (Microsoft Orleans) on both.",
        "The catalogs are in `namespace Microsoft.ML`, so `using Microsoft.ML;` reaches every entry point.",
        "The XML documentation in the packages (and IntelliSense) has the rest; [getting-started.md](getting-started.md) and",
        "[concepts.md](concepts.md) show how the pieces fit. Generated by `scripts/api-index.py` from the sources; a test",
        "checks that no exported type is missing and that the main package keeps to at most 63 public types (the aim is 60).",
        "",
        "| package | public types | what |",
        "|---|---|---|",
    ]
    for package, what, types, _ in scanned:
        lines.append(f"| `{package}` | {sum(len(v) for v in types.values())} | {what} |")
    lines += [
        "",
        "## Extensions to ML.NET",
        "",
        "| extends | member | declared in | what |",
        "|---|---|---|---|",
    ]
    extensions = [e for _, _, _, ext in scanned for e in ext]
    overloads = {}
    for area, recv, name, summary, declaring in extensions:
        key = (recv, name, declaring)
        count, first = overloads.get(key, (0, summary))
        overloads[key] = (count + 1, first or summary)
    for (recv, name, declaring), (count, summary) in sorted(overloads.items()):
        suffix = f" ({count} overloads)" if count > 1 else ""
        lines.append(f"| `{recv}` | `{name}`{suffix} | `{declaring}` | {summary} |")
    lines.append("")
    known = [a for a, _ in AREAS]
    for package, _, types, _ in scanned:
        lines += [f"# Package `{package}`", ""]
        for area in known + sorted(a for a in types if a not in known):
            if area not in types:
                continue
            title = dict(AREAS).get(area, area)
            ns = area[1:-1] if area.startswith("(") else "Microsoft.ML.DiffNft" + ("." + area if area else "")
            lines += [f"## {title}", "", f"Namespace `{ns}`.", "", "| type | kind | what |", "|---|---|---|"]
            for name, kind, summary in sorted(types[area]):
                lines.append(f"| `{name}` | {kind} | {summary} |")
            lines.append("")
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    counts = ", ".join(f"{package} {sum(len(v) for v in types.values())}" for package, _, types, _ in scanned)
    print(f"wrote {OUT}: public types {counts}; {len(extensions)} extension members")


if __name__ == "__main__":
    main()
