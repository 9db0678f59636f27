#!/usr/bin/env python3
"""Compare the feeds MT940 parser with the Python `mt-940` package (PyPI, import `mt940`)
on the same sample files, in one run:

1. second opinion: every transaction's amount, currency, value date, entry date and
   references from both parsers, with each disagreement listed;
2. throughput (MiB/s) on the sample files as they are, and on one larger corpus made of
   them (less per-file overhead for both). The Rust side is timed three times in the same
   run: `feeds::parse_file` (the owned model: a `String` per text field, fingerprints
   included), `feeds::mt940::parse_compact` (the compact form: one text buffer per file,
   borrowed `&str` views; fingerprints are computed on demand and this variant asks for
   none) and the compact form plus `TransactionRef::fingerprint()` for every transaction.
   All three do every :61:/:86: field, the :86: structure (German GVC/SEPA keywords, SWIFT
   code words, mBank), exact Decimal amounts, date validation, the balance chain, currency
   checks and MT942 totals; the owned model is built from the compact form (a test asserts
   both give the same values, fingerprints included, on every sample). mt-940 is timed
   with its default processors (incl. the German :86: detail split), which do not check
   balances or currencies and compute nothing like fingerprints.

Usage (see compare_mt940.sh, which builds the Rust side and the venv):
    compare_mt940.py --rust-bin target/release/examples/throughput [--seconds 3]
"""
import argparse
import decimal
import logging
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import mt940

# mt-940 logs every regex attempt; keep the report readable.
logging.disable(logging.CRITICAL)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "../../../../shared/data/bankfeeds"))
FOLDERS = ["wolph-mt940", "mt940-rs", "jejik-mt940", "betterplace-mt940_parser"]


def sample_files():
    files = []
    for folder in FOLDERS:
        for path in glob.glob(os.path.join(DATA, folder, "**", "*"), recursive=True):
            name = os.path.basename(path)
            if os.path.isfile(path) and name.endswith((".sta", ".txt")) and not name.startswith("LICEN"):
                files.append(path)
    return sorted(files)


def read_text(path):
    raw = open(path, "rb").read()
    # mt-940's own order: UTF-8 first, then the DOS code page many banks still write.
    for enc in ("utf-8", "cp852"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            pass
    return raw.decode("latin-1")


def py_parse(text):
    return mt940.models.Transactions().parse(text)


def py_values(text):
    out = []
    for t in py_parse(text):
        d = t.data
        amount = d.get("amount")
        out.append({
            "amount": str(amount.amount) if amount is not None else None,
            "currency": amount.currency if amount is not None else None,
            "value_date": d["date"].isoformat() if d.get("date") else None,
            "entry_date": d["entry_date"].isoformat() if d.get("entry_date") else None,
            "customer_reference": (d.get("customer_reference") or "").strip() or None,
            "bank_reference": (d.get("bank_reference") or "").strip() or None,
            "type": d.get("id"),
        })
    return out


def same_amount(a, b):
    if a is None or b is None:
        return a == b
    return decimal.Decimal(a) == decimal.Decimal(b)


def compare_values(files, rust_bin):
    lines = subprocess.run([rust_bin, "--values", *files], check=True, capture_output=True, text=True).stdout
    rust = {}
    for line in lines.splitlines():
        rec = json.loads(line)
        rust[rec["file"]] = rec["transactions"]
    disagreements = []
    agreed = 0
    py_failed = []
    for path in files:
        rel = os.path.relpath(path, DATA)
        try:
            theirs = py_values(read_text(path))
        except Exception as e:  # noqa: BLE001 - a failure is a finding
            py_failed.append((rel, "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:100])))
            continue
        ours = rust.get(path, [])
        if len(ours) != len(theirs):
            disagreements.append((rel, "-", "transactions", len(theirs), len(ours)))
        for i, (o, t) in enumerate(zip(ours, theirs)):
            ok = True
            for field in ("amount", "currency", "value_date", "entry_date", "customer_reference", "bank_reference", "type"):
                ov, tv = o.get(field), t.get(field)
                equal = same_amount(ov, tv) if field == "amount" else ov == tv
                if not equal:
                    ok = False
                    disagreements.append((rel, i, field, tv, ov))
            agreed += ok
    return agreed, disagreements, py_failed


def explain(d):
    """Name the known reason for a disagreement (see README.md, Comparison findings)."""
    rel, _i, field, theirs, ours = d
    if field == "customer_reference" and (theirs is None or "KREF+" in str(theirs)):
        return "customer reference: mt-940 replaces the :61: reference by the :86: KREF+ value"
    if field == "type" and theirs is not None and theirs.strip() == ours:
        return "type code: mt-940 keeps trailing blanks ('NOV ', 'S   ')"
    if field == "type" and theirs is None:
        return "type code: mt-940 cannot read it after a blank (`D12,35 NRTI`, Commerzbank/Deutsche Bank)"
    if field == "amount" and theirs is not None and ours is not None and decimal.Decimal(theirs) == -decimal.Decimal(ours):
        return "amount sign: mt-940 books `RC` (reversal of a credit, i.e. a debit) as a credit"
    if field == "value_date" and ours is None and str(theirs).endswith("-02-29"):
        return "value date 30 February: mt-940 moves it to the 29th, feeds flags it"
    if field == "transactions" and ours < theirs:
        return "statement without :20:/:25: (a fragment, or a :61: after the `-` terminator): feeds rejects it with an error"
    return None


def py_throughput(texts, seconds):
    total = sum(len(t.encode("utf-8")) for t in texts)
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        for t in texts:
            py_parse(t)
        best = min(best, time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return total / best / 2**20


def rust_throughput(rust_bin, paths, seconds):
    """(owned model, compact form, compact form + fingerprints) in MiB/s, each the best of
    repeated runs."""
    out = json.loads(subprocess.run([rust_bin, "--seconds", str(seconds), *paths], check=True, capture_output=True, text=True).stdout)
    return out["owned"]["mib_per_s"], out["compact"]["mib_per_s"], out["compact_fingerprints"]["mib_per_s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rust-bin", required=True)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    files = sample_files()

    agreed, disagreements, py_failed = compare_values(files, args.rust_bin)
    print("== Second opinion: %d sample files, %d transactions agree on every field" % (len(files), agreed))
    for rel, why in py_failed:
        print("  mt-940 could not parse %s (%s)" % (rel, why))
    groups = {}
    for d in disagreements:
        groups.setdefault(explain(d), []).append(d)
    for why, items in sorted(groups.items(), key=lambda kv: kv[0] or ""):
        if why is None:
            continue
        print("  %d x %s" % (len(items), why))
    for rel, i, field, theirs, ours in groups.get(None, []):
        print("  UNEXPLAINED %s #%s %s: mt-940 %r, feeds %r" % (rel, i, field, theirs, ours))

    # Throughput on files both read without error.
    good = []
    for path in files:
        try:
            py_parse(read_text(path))
            good.append(path)
        except Exception:  # noqa: BLE001
            pass
    texts = [read_text(p) for p in good]
    with tempfile.TemporaryDirectory() as tmp:
        utf8 = []
        for i, t in enumerate(texts):
            p = os.path.join(tmp, "%03d.sta" % i)
            with open(p, "w", encoding="utf-8") as f:
                f.write(t)
            utf8.append(p)
        # One larger input: the files that start with a tag (a bank preamble would glue onto
        # the previous file's last field), joined, then repeated to about 3 MiB.
        joinable = [t for t in texts if t.lstrip().startswith((":", "{"))]
        corpus = "\r\n".join(t.rstrip() for t in joinable) + "\r\n"
        try:
            py_parse(corpus)
        except Exception:  # noqa: BLE001
            corpus = max(texts, key=len)
        corpus = corpus * max(1, (3 << 20) // len(corpus.encode("utf-8")))
        big = os.path.join(tmp, "corpus.sta")
        with open(big, "w", encoding="utf-8") as f:
            f.write(corpus)
        rows = []
        for label, py_texts, rust_paths in (
            ("%d sample files, one call each" % len(good), texts, utf8),
            ("the same files concatenated to %.1f MiB" % (len(corpus.encode("utf-8")) / 2**20), [corpus], [big]),
        ):
            py = py_throughput(py_texts, args.seconds)
            rs = rust_throughput(args.rust_bin, rust_paths, args.seconds)
            rows.append((label, py, rs))
    print("\n== Throughput (best of repeated runs, Python %s, mt-940 %s)" % (sys.version.split()[0], getattr(mt940, "__version__", "?")))
    print("owned = feeds::parse_file (owned model, parse + checks + fingerprints)")
    print("compact = feeds::mt940::parse_compact (parse + checks, fingerprints on demand: none asked for)")
    print("compact + fp = the same plus TransactionRef::fingerprint() for every transaction")
    print("| input | mt-940 (Python) MiB/s | feeds owned MiB/s | ratio | feeds compact MiB/s | ratio | feeds compact + fp MiB/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, py, (owned, compact, fp) in rows:
        # One decimal: a ratio of 49.6 is not rounded up to the 50 of a goal.
        print("| %s | %.2f | %.1f | %.1fx | %.1f | %.1fx | %.1f | %.1fx |" % (label, py, owned, owned / py, compact, compact / py, fp, fp / py))


if __name__ == "__main__":
    main()
