#!/usr/bin/env python3
"""Convert the expected results shipped next to the sample files into plain JSON that the
Rust tests read (tests/expected/**.json). Run from the repository root with the venv that has
the `mt-940` package (needed to load the wolph .yml dumps, which pickle its objects):

    python3 -m venv .venv-mt940 && .venv-mt940/bin/pip install mt-940 pyyaml
    .venv-mt940/bin/python services/feeds/tests/expected/convert.py

Only values are extracted; no code of the sample projects is used.
"""
import datetime
import decimal
import glob
import json
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "../../../../../shared/data/bankfeeds"))


def write(rel, obj):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")


def plain(v):
    """Python values from the dumps as JSON-friendly strings."""
    if v is None:
        return None
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return v
    return str(v)


# --- wolph/mt940: yaml dumps of mt940.models objects ------------------------------------
def wolph_value(v):
    import mt940

    if isinstance(v, mt940.models.Balance):
        return {"amount": str(v.amount.amount), "currency": v.amount.currency, "date": v.date.isoformat()}
    if isinstance(v, mt940.models.Amount):
        return {"amount": str(v.amount), "currency": v.currency}
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    return plain(v)


def convert_wolph():
    import mt940  # noqa: F401  (the dumps reference its classes)

    for path in sorted(glob.glob(os.path.join(DATA, "wolph-mt940/mt940_tests/**/*.yml"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            obj = yaml.unsafe_load(f)
        rel = os.path.relpath(path, DATA)
        if isinstance(obj, str):
            out = {"raw_string": obj}
        else:
            out = {
                "data": {k: wolph_value(v) for k, v in obj.data.items()},
                "transactions": [{k: wolph_value(v) for k, v in t.data.items()} for t in obj.transactions],
            }
        write(rel[: -len(".yml")] + ".json", out)


# --- betterplace/mt940_parser: Ruby object yaml ------------------------------------------
class RubyLoader(yaml.SafeLoader):
    pass


def ruby_object(loader, suffix, node):
    value = loader.construct_mapping(node, deep=True)
    value["_class"] = suffix
    return value


RubyLoader.add_multi_constructor("!ruby/object:", ruby_object)


def convert_betterplace():
    for path in sorted(glob.glob(os.path.join(DATA, "betterplace-mt940_parser/test/fixtures/*.yml"))):
        with open(path, encoding="utf-8") as f:
            obj = yaml.load(f, Loader=RubyLoader)
        rel = os.path.relpath(path, DATA)

        def clean(o):
            if isinstance(o, dict):
                return {str(k): clean(v) for k, v in o.items()}
            if isinstance(o, list):
                return [clean(v) for v in o]
            return plain(o)

        write(rel[: -len(".yml")] + ".json", clean(obj))


# --- genkgo/camt: JSON dumps of PHP objects, distilled -----------------------------------
def money(m):
    if not m:
        return None
    return {"minor": m["getAmount"], "currency": m["getCurrency"]["getCode"]}


def date_part(d):
    return d["0"] if d else None


def party(p):
    t = p.get("getRelatedPartyType") or {}
    acct = p.get("getAccount") or {}
    return {
        "role": t.get("__CLASS__", "").split("\\")[-1],
        "name": t.get("getName"),
        "account": acct.get("getIdentification") if isinstance(acct, dict) else None,
    }


def detail(d):
    if not isinstance(d, dict):
        return None
    ref = d.get("getReference") or {}
    rmt = d.get("getRemittanceInformation") or {}
    unstructured = [b.get("getMessage") for b in rmt.get("getUnstructuredBlocks") or [] if isinstance(b, dict)]
    cri = rmt.get("getCreditorReferenceInformation") or {}
    if not isinstance(cri, dict) or not cri.get("getRef"):
        block = rmt.get("getStructuredBlock") or {}
        cri = (block.get("getCreditorReferenceInformation") if isinstance(block, dict) else None) or {}
    refs = {}
    if isinstance(ref, dict):
        for k, v in ref.items():
            if isinstance(v, str) and k.startswith("get"):
                refs[k[3:]] = v
    return {
        "references": refs,
        "amount": money(d.get("getAmount")),
        "end_to_end_id": ref.get("getEndToEndId") if isinstance(ref, dict) else None,
        "account_servicer_reference": ref.get("getAccountServicerReference") if isinstance(ref, dict) else None,
        "parties": [party(p) for p in d.get("getRelatedParties") or [] if isinstance(p, dict)],
        "message": rmt.get("getMessage") if isinstance(rmt, dict) else None,
        "unstructured": unstructured,
        "creditor_reference": cri.get("getRef") if isinstance(cri, dict) else None,
    }


def convert_genkgo():
    for path in sorted(glob.glob(os.path.join(DATA, "genkgo-camt/test/data/*.json"))):
        with open(path, encoding="utf-8") as f:
            msg = json.load(f)
        entries = msg.get("getEntries") or []
        record = None
        out_entries = []
        for e in entries:
            if isinstance(e.get("getRecord"), dict):
                record = record or e["getRecord"]
            btc = e.get("getBankTransactionCode") or {}
            dom = btc.get("getDomain") or {}
            prop = btc.get("getProprietary") or {}
            fam = dom.get("getFamily") or {}
            details = [x for x in (detail(d) for d in e.get("getTransactionDetails") or []) if x]
            if isinstance(e.get("getTransactionDetail"), dict) and (
                not details or (e.get("getTransactionDetails") or [None])[0] == "__RECURSIVITY__"
            ):
                # The dump writes the first detail once and refers back to it.
                details = [detail(e["getTransactionDetail"])] + details
            out_entries.append({
                "amount": money(e["getAmount"]),
                "indicator": e.get("getCreditDebitIndicator"),
                "reversal": e.get("getReversalIndicator"),
                "status": e.get("getStatus"),
                "booking_date": date_part(e.get("getBookingDate")),
                "value_date": date_part(e.get("getValueDate")),
                "account_servicer_reference": e.get("getAccountServicerReference"),
                "reference": e.get("getReference"),
                "additional_info": e.get("getAdditionalInfo"),
                "domain": "/".join(x for x in [dom.get("getCode"), fam.get("getCode"), fam.get("getSubFamilyCode")] if x) or None,
                "proprietary": prop.get("getCode"),
                "details": [d for d in details if d is not None],
            })
        rec = None
        if record:
            acct = record.get("getAccount") or {}
            rec = {
                "id": record.get("getId"),
                "account": acct.get("getIdentification"),
                "electronic_sequence": record.get("getElectronicSequenceNumber"),
                "legal_sequence": record.get("getLegalSequenceNumber"),
                "additional_information": record.get("getAdditionalInformation"),
                "balances": [
                    {"type": b["getType"], "amount": money(b["getAmount"]), "date": date_part(b.get("getDate"))}
                    for b in record.get("getBalances") or []
                ],
            }
        rel = os.path.relpath(path, DATA)
        write(rel, {"record": rec, "entries": out_entries})


# --- double-entry-generator: beancount / ledger outputs -----------------------------------
def own_accounts(config_path):
    """The account(s) a config books the statement's own side on."""
    own = set()
    with open(config_path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*(defaultCashAccount|methodAccount):\s*(\S+)", line)
            if m:
                own.add(m.group(2))
    return own


def convert_beancount():
    for path in sorted(glob.glob(os.path.join(DATA, "double-entry-generator/example/**/*.beancount"), recursive=True)):
        own = own_accounts(os.path.join(os.path.dirname(path), "config.yaml"))
        txs = []
        cur = None
        with open(path, encoding="utf-8") as f:
            for line in f:
                head = re.match(r'^(\d{4}-\d{2}-\d{2}) [*!] (.*)$', line)
                if head:
                    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', head.group(2))
                    cur = {"date": head.group(1), "narration": strings[-1] if strings else "", "postings": [], "meta": {}}
                    txs.append(cur)
                    continue
                if cur is None:
                    continue
                meta = re.match(r'^\s+([a-zA-Z]\w*):\s*"(.*)"\s*$', line)
                if meta:
                    cur["meta"][meta.group(1)] = meta.group(2)
                    continue
                post = re.match(r"^\s+([A-Z][\w:\-]*)\s+(-?[\d.]+)\s+([A-Z]+)", line)
                if post:
                    cur["postings"].append({"account": post.group(1), "amount": post.group(2), "currency": post.group(3)})
                    continue
                if not line.strip():
                    cur = None
        out = []
        for t in txs:
            mine = [p for p in t["postings"] if p["account"] in own]
            if len(mine) != 1:
                # Both legs on own accounts (a transfer between the user's own cards) or none:
                # keep the first leg; the test matches either sign.
                mine = mine or t["postings"]
            p = mine[0]
            out.append({
                "date": t["date"],
                "narration": t["narration"],
                "amount": p["amount"],
                "currency": p["currency"],
                "own_legs": len([q for q in t["postings"] if q["account"] in own]),
                "meta": t["meta"],
            })
        rel = os.path.relpath(path, DATA)
        write(rel[: -len(".beancount")] + ".json", {"own_accounts": sorted(own), "transactions": out})


# --- bai2 (PyPI `bai2`): a second opinion where the BAI2 samples have no expected output ---
def convert_bai2():
    try:
        from bai2 import bai2 as b
    except ImportError:
        print("bai2 package missing: pip install bai2", file=sys.stderr)
        return
    paths = glob.glob(os.path.join(DATA, "moj-bai2/**/*.bai2"), recursive=True)
    paths += glob.glob(os.path.join(DATA, "moov-bai2/**/*.txt"), recursive=True)
    for path in sorted(paths):
        rel = os.path.relpath(path, DATA)
        out = {"integrity": "ok", "accounts": []}
        try:
            with open(path, encoding="utf-8") as f:
                b.parse_from_file(f, check_integrity=True)
        except Exception as e:  # noqa: BLE001 - the message is the expectation
            out["integrity"] = "%s: %s" % (type(e).__name__, e)
        try:
            with open(path, encoding="utf-8") as f:
                doc = b.parse_from_file(f, check_integrity=False)
        except Exception as e:  # noqa: BLE001
            out["error"] = "%s: %s" % (type(e).__name__, e)
            write("bai2/" + rel + ".json", out)
            continue
        for group in doc.children:
            for acct in group.children:
                h = acct.header
                out["accounts"].append({
                    "account": h.customer_account_number,
                    "currency": h.currency or group.header.currency,
                    "as_of_date": plain(group.header.as_of_date),
                    "summaries": [
                        {"code": s.type_code.code if s.type_code else None, "amount": plain(s.amount)}
                        for s in h.summary_items
                    ],
                    "transactions": [
                        {
                            "code": t.type_code.code,
                            "direction": t.type_code.transaction.value if t.type_code.transaction else None,
                            "amount": plain(t.amount),
                            "bank_reference": t.bank_reference,
                            "customer_reference": t.customer_reference,
                            "text": t.text,
                        }
                        for t in acct.children
                    ],
                })
        write("bai2/" + rel + ".json", out)


if __name__ == "__main__":
    convert_bai2()
    convert_wolph()
    convert_betterplace()
    convert_genkgo()
    convert_beancount()
    print("converted into", HERE, file=sys.stderr)
