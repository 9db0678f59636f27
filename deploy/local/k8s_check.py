#!/usr/bin/env python3
"""Checks the rendered production manifests for what the schemas cannot say.

kubeconform checks every object against its schema; this checks the rules the project set for
its pods and the links between objects (deploy/local/k8s-check.sh runs it on the output of
`kustomize build deploy/k8s/overlays/production`):

- every container of a Deployment or Job: seccomp RuntimeDefault, all capabilities dropped,
  no privilege escalation, read-only root file system, non-root, a memory limit and requests;
  no service-account token in the pod;
- every Deployment: startup, readiness and liveness probes, a PodDisruptionBudget, a
  default-deny NetworkPolicy and policies allowing its ingress and egress;
- every service Deployment (component server) also: DATABASE_MIGRATE=false, a migration
  Job `<name>-migrate` running `<binary> migrate` with another database secret (the role with DDL), its Kafka principal a KafkaUser, and its two
  database roles managed by the CloudNativePG Cluster; the web console (component web) none
  of these: it has no database and no Kafka access;
- the namespace enforces the restricted Pod Security Standard.

Usage: k8s_check.py RENDERED.yaml   (exit status 1 and one line per failure otherwise)
       k8s_check.py --standalone-schemas SOURCE DEST RENDERED.yaml...   (see standalone_schemas)
"""

import sys

import yaml


def selects(selector, labels):
    """True when a label selector (matchLabels / matchExpressions) selects `labels`."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def env_of(container):
    return {e["name"]: e for e in container.get("env") or []}


def check_pod(where, pod, problems):
    """The rules every pod of ours meets."""
    spec = pod["spec"]
    pod_sc = spec.get("securityContext") or {}
    if spec.get("automountServiceAccountToken") is not False:
        problems.append(f"{where}: automountServiceAccountToken is not false")
    containers = (spec.get("initContainers") or []) + spec["containers"]
    for c in containers:
        name = f"{where} container {c['name']}"
        sc = c.get("securityContext") or {}
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp != "RuntimeDefault":
            problems.append(f"{name}: seccompProfile is {seccomp!r}, not RuntimeDefault")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{name}: capabilities do not drop ALL")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: readOnlyRootFilesystem is not true")
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot is not true")
        resources = c.get("resources") or {}
        if "memory" not in (resources.get("limits") or {}):
            problems.append(f"{name}: no memory limit")
        requests = resources.get("requests") or {}
        if "memory" not in requests or "cpu" not in requests:
            problems.append(f"{name}: no cpu and memory requests")


def main(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    problems = []

    namespaces = by_kind.get("Namespace", [])
    if not namespaces:
        problems.append("no Namespace")
    for ns in namespaces:
        level = (ns["metadata"].get("labels") or {}).get("pod-security.kubernetes.io/enforce")
        if level != "restricted":
            problems.append(f"Namespace {ns['metadata']['name']}: Pod Security enforce is {level!r}")

    jobs = {j["metadata"]["name"]: j for j in by_kind.get("Job", [])}
    for job in jobs.values():
        check_pod(f"Job {job['metadata']['name']}", job["spec"]["template"], problems)

    pdbs = by_kind.get("PodDisruptionBudget", [])
    policies = by_kind.get("NetworkPolicy", [])
    users = {u["metadata"]["name"] for u in by_kind.get("KafkaUser", [])}
    roles = set()
    for cluster in by_kind.get("Cluster", []):
        for role in ((cluster["spec"].get("managed") or {}).get("roles") or []):
            if role.get("login") and role.get("passwordSecret"):
                roles.add(role["name"])

    deployments = by_kind.get("Deployment", [])
    component = lambda d: (d["spec"]["template"]["metadata"].get("labels") or {}).get(
        "app.kubernetes.io/component")
    servers = [d for d in deployments if component(d) == "server"]
    if len(servers) != 6:
        problems.append(f"expected the six services' Deployments (five and reporting), found {len(servers)}")
    for dep in deployments:
        name = dep["metadata"]["name"]
        where = f"Deployment {name}"
        template = dep["spec"]["template"]
        labels = template["metadata"].get("labels") or {}
        check_pod(where, template, problems)
        for c in template["spec"]["containers"]:
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe not in c:
                    problems.append(f"{where} container {c['name']}: no {probe}")
        if not any(selects(p["spec"].get("selector"), labels) for p in pdbs):
            problems.append(f"{where}: no PodDisruptionBudget selects its pods")

        covering = [p for p in policies if selects(p["spec"].get("podSelector"), labels)]
        deny = [
            p for p in covering
            if {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes") or [])
            and not p["spec"].get("ingress") and not p["spec"].get("egress")
        ]
        if not deny:
            problems.append(f"{where}: no default-deny NetworkPolicy covers its pods")
        for direction, rules in (("Ingress", "ingress"), ("Egress", "egress")):
            if not any(p["spec"].get(rules) for p in covering):
                problems.append(f"{where}: no NetworkPolicy allows its {direction.lower()}")

        if component(dep) != "server":
            # The web console: no database, no Kafka, no migration (it calls the services).
            env = env_of(template["spec"]["containers"][0])
            if "DATABASE_URL" in env or "KAFKA_SASL_USERNAME" in env:
                problems.append(f"{where}: a web Deployment has no database or Kafka access")
            continue
        main_container = template["spec"]["containers"][0]
        env = env_of(main_container)
        if (env.get("DATABASE_MIGRATE") or {}).get("value") != "false":
            problems.append(f"{where}: DATABASE_MIGRATE is not \"false\" (the Job migrates)")

        job = jobs.get(f"{name}-migrate")
        if job is None:
            problems.append(f"{where}: no migration Job {name}-migrate")
        else:
            job_container = job["spec"]["template"]["spec"]["containers"][0]
            command = (job_container.get("command") or []) + (job_container.get("args") or [])
            if command[-1:] != ["migrate"]:
                problems.append(f"Job {name}-migrate: does not run `{name} migrate`: {command}")
            secret = lambda e: ((e.get("DATABASE_URL") or {}).get("valueFrom") or {}).get(
                "secretKeyRef", {}).get("name")
            if secret(env_of(job_container)) in (None, secret(env)):
                problems.append(
                    f"Job {name}-migrate: must use its own database secret (the role with DDL), "
                    f"not the runtime one")

        principal = (env.get("KAFKA_SASL_USERNAME") or {}).get("value")
        if principal not in users:
            problems.append(f"{where}: Kafka principal {principal!r} has no KafkaUser")
        for role in (f"collections_{name}", f"collections_{name}_migrate"):
            if role not in roles:
                problems.append(f"{where}: database role {role} is not managed by the Cluster")

    for p in problems:
        print(f"k8s_check: {p}")
    if problems:
        return 1
    print(f"k8s_check: {len(deployments)} Deployments, {len(jobs)} Jobs, {len(pdbs)} "
          f"PodDisruptionBudgets, {len(policies)} NetworkPolicies, {len(users)} KafkaUsers: "
          f"all rules hold")
    return 0


def standalone_schemas(source, dest, rendered):
    """Writes, for every built-in kind in the `rendered` files, its schema from `source` (the
    kubernetes-validate package's `*-local-strict` directory) with the definitions it uses
    inlined, so kubeconform validates offline: the package's schemas point at
    `/api/_definitions.json`, which kubeconform would try to download."""
    import json
    import os
    import re

    with open(os.path.join(source, "_definitions.json"), encoding="utf-8") as f:
        definitions = json.load(f)["$defs"]
    ref = re.compile(r'"/api/_definitions\.json#/\$defs/([^"]+)"')
    local = re.compile(r'"(?:/api/_definitions\.json)?#/\$defs/([^"]+)"')
    os.makedirs(dest, exist_ok=True)
    kinds = set()
    for path in rendered:
        with open(path, encoding="utf-8") as f:
            for d in yaml.safe_load_all(f):
                if d:
                    kinds.add((d["apiVersion"], d["kind"]))
    written = 0
    for api_version, kind in sorted(kinds):
        group, _, version = api_version.rpartition("/")
        suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
        name = f"{kind.lower()}{suffix}.json"
        if not os.path.exists(os.path.join(source, name)):
            continue  # a custom resource: deploy/k8s/schemas has it
        with open(os.path.join(source, name), encoding="utf-8") as f:
            text = f.read()
        needed, todo = {}, ref.findall(text)
        while todo:
            key = todo.pop()
            if key not in needed:
                needed[key] = definitions[key]
                # Inside the definitions file its entries point at each other locally.
                todo.extend(local.findall(json.dumps(definitions[key])))
        schema = json.loads(ref.sub(r'"#/$defs/\1"', text))
        schema.pop("$id", None)
        schema["$defs"] = json.loads(ref.sub(r'"#/$defs/\1"', json.dumps(needed)))
        with open(os.path.join(dest, name), "w", encoding="utf-8") as f:
            json.dump(schema, f)
        written += 1
    print(f"k8s_check: {written} standalone Kubernetes schemas in {dest}")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--standalone-schemas":
        standalone_schemas(sys.argv[2], sys.argv[3], sys.argv[4:])
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
