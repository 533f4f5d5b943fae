#!/usr/bin/env python3
"""Assertions on one `helm template` output of the cp-ha-sidecar chart.

Usage:
  check_render.py --repo DIR --render FILE [--values FILE] [--host-values FILE]
                  --label NAME

--values is a chart values file (one of ci/*.yaml) merged over the chart's
values.yaml, the way Helm merges them; --host-values is the values file of a
parent chart whose "cp-ha-sidecar" key holds this chart's values (the
named-template example). The merged values say what the render must contain.

Prints one line per check, "PASS: <label>: <check>" or
"FAIL: <label>: <check>: <why>", and exits 1 when any check failed.
"""

import argparse
import base64
import copy
import glob
import json
import os
import re
import sys

import yaml

LIVE_PATH = "/v1/health/live"
READ_READY_PATH = "/v1/health/read-ready"
WRITE_READY_PATH = "/v1/health/write-ready"
SECRET_ENV_FORBIDDEN = ("CP_HA_POSTGRES_URL", "CP_HA_ADMIN_TOKEN")
SECRET_ARG_FORBIDDEN = ("--postgres-url=", "--admin-token=")
URL_RE = re.compile(r"postgres(ql)?://", re.IGNORECASE)


class Checker:
    """Collects PASS/FAIL lines for one render."""

    def __init__(self, label):
        self.label = label
        self.failed = 0

    def check(self, name, ok, why=""):
        if ok:
            print(f"PASS: {self.label}: {name}")
        else:
            self.failed += 1
            print(f"FAIL: {self.label}: {name}: {why}")
        return ok


def deep_merge(base, over):
    """Helm's values merge: maps merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in (over or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def of_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def sources_groups(repo):
    """Groups of alerts/*.rules.yml in file-name order, as the chart does."""
    groups = []
    for path in sorted(glob.glob(os.path.join(repo, "alerts", "*.rules.yml"))):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
        groups.extend(doc.get("groups") or [])
    return groups


def env_map(container):
    return {e["name"]: e for e in container.get("env") or []}


def subset(small, big):
    return all(big.get(k) == v for k, v in (small or {}).items())


def check_container_security(c, pod_sc, name, ck):
    sc = c.get("securityContext") or {}
    pod_sc = pod_sc or {}
    ck.check(f"{name}: runAsNonRoot",
             sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True,
             f"container {sc.get('runAsNonRoot')}, pod {pod_sc.get('runAsNonRoot')}")
    ck.check(f"{name}: readOnlyRootFilesystem",
             sc.get("readOnlyRootFilesystem") is True,
             repr(sc.get("readOnlyRootFilesystem")))
    ck.check(f"{name}: allowPrivilegeEscalation false",
             sc.get("allowPrivilegeEscalation") is False,
             repr(sc.get("allowPrivilegeEscalation")))
    ck.check(f"{name}: not privileged", sc.get("privileged") is not True,
             "privileged: true")
    drop = ((sc.get("capabilities") or {}).get("drop")) or []
    ck.check(f"{name}: capabilities drop ALL", "ALL" in drop, repr(drop))
    add = ((sc.get("capabilities") or {}).get("add")) or []
    ck.check(f"{name}: no capabilities added", not add, repr(add))
    seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {})
    ck.check(f"{name}: seccomp RuntimeDefault",
             seccomp.get("type") == "RuntimeDefault", repr(seccomp))
    if "runAsUser" in sc or "runAsUser" in pod_sc:
        uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
        ck.check(f"{name}: runAsUser non-zero", uid != 0, repr(uid))


def probe_paths(container):
    paths = []
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        p = container.get(probe) or {}
        paths.append(json.dumps(p))
    return " ".join(paths)


def secret_file_source(pod, container, env_name):
    """(secret name, key) behind the file an env var points at, or None."""
    env = env_map(container).get(env_name)
    if not env or "value" not in env:
        return None
    path = env["value"]
    for mount in container.get("volumeMounts") or []:
        prefix = mount["mountPath"].rstrip("/") + "/"
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix):]
        for vol in pod.get("volumes") or []:
            if vol.get("name") != mount["name"]:
                continue
            sources = []
            if "secret" in vol:
                sources = [{"secret": {"name": vol["secret"]["secretName"],
                                       "items": vol["secret"].get("items")}}]
            elif "projected" in vol:
                sources = vol["projected"].get("sources") or []
            for src in sources:
                sec = src.get("secret")
                if not sec:
                    continue
                for item in sec.get("items") or []:
                    if item.get("path") == rel:
                        return sec["name"], item["key"]
    return None


def check_pod(pod_meta, pod, values, fullname, ck, where):
    sv = values["sidecar"]
    containers = pod.get("containers") or []
    by_name = {c["name"]: c for c in containers}
    sidecar = by_name.get(sv["name"])
    if not ck.check(f"{where}: sidecar container present", sidecar is not None,
                    f"containers: {list(by_name)}"):
        return
    pod_sc = pod.get("securityContext") or {}

    # Security context of every container (control plane included).
    for c in containers + (pod.get("initContainers") or []):
        check_container_security(c, pod_sc, f"{where}/{c['name']}", ck)
    ck.check(f"{where}: pod runAsNonRoot", pod_sc.get("runAsNonRoot") is True,
             repr(pod_sc))
    ck.check(f"{where}: pod seccomp RuntimeDefault",
             (pod_sc.get("seccompProfile") or {}).get("type") == "RuntimeDefault",
             repr(pod_sc))
    ck.check(f"{where}: no hostNetwork/hostPID/hostIPC",
             not any(pod.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")),
             "host namespace shared")

    # Resources: requests and limits on every container, sidecar as set.
    for c in containers:
        res = c.get("resources") or {}
        ck.check(f"{where}/{c['name']}: requests and limits set",
                 bool(res.get("requests")) and bool(res.get("limits"))
                 and "memory" in res["limits"],
                 repr(res))
    ck.check(f"{where}: sidecar resources as values",
             sidecar.get("resources") == sv["resources"],
             f"{sidecar.get('resources')} != {sv['resources']}")

    # Probes.
    scheme = "HTTPS" if values["tls"]["enabled"] else "HTTP"
    live = (sidecar.get("livenessProbe") or {}).get("httpGet") or {}
    ready = (sidecar.get("readinessProbe") or {}).get("httpGet") or {}
    ck.check(f"{where}: liveness on {LIVE_PATH}",
             live.get("path") == LIVE_PATH and live.get("port") == sv["portName"],
             repr(live))
    ck.check(f"{where}: readiness on {READ_READY_PATH}",
             ready.get("path") == READ_READY_PATH
             and ready.get("port") == sv["portName"], repr(ready))
    ck.check(f"{where}: probe scheme {scheme}",
             live.get("scheme") == scheme and ready.get("scheme") == scheme,
             f"{live.get('scheme')}/{ready.get('scheme')}")
    ck.check(f"{where}: no probe on write-ready",
             all(WRITE_READY_PATH not in probe_paths(c) for c in containers),
             "a probe uses /v1/health/write-ready")
    port_names = [p.get("name") for p in sidecar.get("ports") or []]
    ck.check(f"{where}: sidecar port {sv['portName']}",
             sv["portName"] in port_names, repr(port_names))

    # Holder id from the pod name.
    env = env_map(sidecar)
    holder = env.get("CP_HA_HOLDER_ID") or {}
    ck.check(f"{where}: holder id from metadata.name",
             ((holder.get("valueFrom") or {}).get("fieldRef") or {})
             .get("fieldPath") == "metadata.name" and "value" not in holder,
             repr(holder))

    # Secrets: only file paths in env, files from the expected Secrets.
    for c in containers:
        cenv = env_map(c)
        plain = [n for n in SECRET_ENV_FORBIDDEN
                 if n in cenv and "value" in cenv[n]]
        ck.check(f"{where}/{c['name']}: no plaintext secret env", not plain,
                 repr(plain))
        url_env = [e["name"] for e in c.get("env") or []
                   if isinstance(e.get("value"), str) and URL_RE.search(e["value"])]
        ck.check(f"{where}/{c['name']}: no database URL in env", not url_env,
                 repr(url_env))
        args = [str(a) for a in (c.get("args") or []) + (c.get("command") or [])]
        bad_args = [a for a in args
                    if a.startswith(SECRET_ARG_FORBIDDEN) or URL_RE.search(a)
                    or a in ("--postgres-url", "--admin-token")]
        ck.check(f"{where}/{c['name']}: no secret in args", not bad_args,
                 repr(bad_args))

    pg_name = values["postgres"]["existingSecret"] or f"{fullname}-postgres"
    got = secret_file_source(pod, sidecar, "CP_HA_POSTGRES_URL_FILE")
    ck.check(f"{where}: postgres URL file from Secret {pg_name}",
             got == (pg_name, values["postgres"]["secretKey"]), repr(got))

    at = values["adminToken"]
    got = secret_file_source(pod, sidecar, "CP_HA_ADMIN_TOKEN_FILE")
    if at["enabled"]:
        at_name = at["existingSecret"] or f"{fullname}-admin-token"
        ck.check(f"{where}: admin token file from Secret {at_name}",
                 got == (at_name, at["secretKey"]), repr(got))
    else:
        ck.check(f"{where}: no admin token when disabled",
                 "CP_HA_ADMIN_TOKEN_FILE" not in env, "token env present")

    tls = values["tls"]
    got = secret_file_source(pod, sidecar, "CP_HA_TLS_CERT_FILE")
    if tls["enabled"]:
        ck.check(f"{where}: TLS PEM from Secret {tls['existingSecret']}",
                 got == (tls["existingSecret"], tls["secretKey"]), repr(got))
    else:
        ck.check(f"{where}: no TLS file when disabled",
                 "CP_HA_TLS_CERT_FILE" not in env, "TLS env present")

    # Shutdown arithmetic: grace >= preStop + resign (+ margin).
    shutdown = sv["shutdown"]
    pre = ((sidecar.get("lifecycle") or {}).get("preStop")) or {}
    if "sleep" in pre:
        pre_s = int(pre["sleep"]["seconds"])
    elif "exec" in pre:
        cmd = pre["exec"]["command"]
        pre_s = int(cmd[-1]) if cmd and cmd[0] == "sleep" else -1
    else:
        pre_s = 0
    ck.check(f"{where}: preStop sleeps {shutdown['preStopSleepSeconds']}s",
             pre_s == shutdown["preStopSleepSeconds"], f"preStop {pre!r}")
    grace = pod.get("terminationGracePeriodSeconds")
    need = pre_s + shutdown["resignSeconds"] + shutdown["marginSeconds"]
    ck.check(f"{where}: grace {grace} >= preStop {pre_s} + resign "
             f"{shutdown['resignSeconds']} + margin {shutdown['marginSeconds']}",
             isinstance(grace, int) and grace >= need, f"need {need}")

    # Pod labels carry the member label the PodMonitor selects on.
    labels = pod_meta.get("labels") or {}
    ck.check(f"{where}: member label",
             labels.get("cp-ha-sidecar/member") == fullname, repr(labels))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--render", required=True)
    ap.add_argument("--values")
    ap.add_argument("--host-values")
    ap.add_argument("--label", required=True)
    ap.add_argument("--release", default="r")
    args = ap.parse_args()

    chart = os.path.join(args.repo, "helm", "cp-ha-sidecar")
    with open(os.path.join(chart, "values.yaml"), encoding="utf-8") as f:
        values = yaml.safe_load(f)
    with open(os.path.join(chart, "Chart.yaml"), encoding="utf-8") as f:
        chart_meta = yaml.safe_load(f)
    overlay = {}
    if args.values:
        with open(args.values, encoding="utf-8") as f:
            overlay = yaml.safe_load(f) or {}
    host_mode = bool(args.host_values)
    if host_mode:
        with open(args.host_values, encoding="utf-8") as f:
            overlay = (yaml.safe_load(f) or {}).get("cp-ha-sidecar") or {}
    values = deep_merge(values, overlay)

    ck = Checker(args.label)
    docs = load_docs(args.render)
    fullname = values.get("fullnameOverride") or f"{args.release}-cp-ha-sidecar"
    deployments = of_kind(docs, "Deployment")
    secrets = of_kind(docs, "Secret")
    full_mode = values["workload"]["enabled"] and not host_mode

    # Workload objects.
    pods = []
    if full_mode:
        ck.check("one Deployment", len(deployments) == 1, len(deployments))
        for kind in ("PodDisruptionBudget", "ServiceAccount", "Service"):
            ck.check(f"{kind} rendered", len(of_kind(docs, kind)) == 1,
                     len(of_kind(docs, kind)))
    elif not host_mode:
        ck.check("named-template mode: no workload objects",
                 not any(of_kind(docs, k) for k in
                         ("Deployment", "StatefulSet", "PodDisruptionBudget",
                          "Service", "ServiceAccount")),
                 [d["kind"] for d in docs])
    else:
        ck.check("host chart renders its own Deployment", len(deployments) == 1,
                 len(deployments))
    for dep in deployments:
        tpl = dep["spec"]["template"]
        pods.append(tpl)
        check_pod(tpl["metadata"], tpl["spec"], values, fullname, ck,
                  dep["metadata"]["name"])
        ck.check(f"{dep['metadata']['name']}: selector matches pod labels",
                 subset(dep["spec"]["selector"]["matchLabels"],
                        tpl["metadata"]["labels"]),
                 "selector/labels mismatch")
    if full_mode and deployments:
        dep = deployments[0]
        sidecar = next(c for c in dep["spec"]["template"]["spec"]["containers"]
                       if c["name"] == values["sidecar"]["name"])
        want = f"{values['sidecar']['image']['repository']}:{chart_meta['appVersion']}"
        if not values["sidecar"]["image"]["tag"] and not values["sidecar"]["image"]["digest"]:
            ck.check("sidecar image tag defaults to appVersion",
                     sidecar["image"] == want, f"{sidecar['image']} != {want}")
        ck.check("rolling update keeps every pod until its successor is up",
                 dep["spec"]["strategy"].get("rollingUpdate", {})
                 .get("maxUnavailable") == 0, repr(dep["spec"]["strategy"]))
        for pdb in of_kind(docs, "PodDisruptionBudget"):
            ck.check("PDB selects the pods",
                     subset(pdb["spec"]["selector"]["matchLabels"],
                            dep["spec"]["template"]["metadata"]["labels"]),
                     repr(pdb["spec"]["selector"]))
            ck.check("PDB bounds disruption",
                     "maxUnavailable" in pdb["spec"] or "minAvailable" in pdb["spec"],
                     repr(pdb["spec"]))

    # Secrets: created ones hold the values; values never leak elsewhere.
    pg = values["postgres"]
    at = values["adminToken"]
    created = {s["metadata"]["name"]: s for s in secrets}
    if pg["existingSecret"]:
        ck.check("no postgres Secret created when existingSecret is set",
                 f"{fullname}-postgres" not in created
                 and pg["existingSecret"] not in created, list(created))
    elif pg["url"]:
        sec = created.get(f"{fullname}-postgres")
        got = None
        if sec:
            got = base64.b64decode(sec["data"][pg["secretKey"]]).decode()
        ck.check("postgres Secret created from values", got == pg["url"],
                 "missing or different")
    if at["enabled"] and at["existingSecret"]:
        ck.check("no admin Secret created when existingSecret is set",
                 f"{fullname}-admin-token" not in created
                 and at["existingSecret"] not in created, list(created))
    elif at["enabled"]:
        sec = created.get(f"{fullname}-admin-token")
        got = None
        if sec:
            got = base64.b64decode(sec["data"][at["secretKey"]]).decode()
        if at["value"]:
            ck.check("admin Secret created from values", got == at["value"],
                     "missing or different")
        else:
            ck.check("admin token generated", bool(got) and len(got) >= 32,
                     "missing or short")
    for secret_value in (pg["url"], at["value"]):
        if not secret_value:
            continue
        leaks = [f"{d['kind']}/{d['metadata']['name']}" for d in docs
                 if d.get("kind") != "Secret" and secret_value in yaml.safe_dump(d)]
        ck.check("secret value appears only in Secret objects", not leaks,
                 repr(leaks))
    with open(args.render, encoding="utf-8") as f:
        raw = f.read()
    for secret_value in (pg["url"], at["value"]):
        if secret_value:
            ck.check("secret value never in clear text in the render",
                     secret_value not in raw, "found in clear text")

    # PodMonitor.
    mon = values["monitoring"]
    pms = of_kind(docs, "PodMonitor")
    if mon["podMonitor"]["enabled"]:
        if ck.check("one PodMonitor", len(pms) == 1, len(pms)):
            pm = pms[0]
            ep = pm["spec"]["podMetricsEndpoints"][0]
            ck.check("PodMonitor scrapes the sidecar port /metrics",
                     ep.get("port") == values["sidecar"]["portName"]
                     and ep.get("path") == "/metrics", repr(ep))
            ck.check("PodMonitor scheme",
                     ep.get("scheme") == ("https" if values["tls"]["enabled"] else "http"),
                     ep.get("scheme"))
            ck.check("PodMonitor has the configured labels",
                     subset(mon["podMonitor"]["labels"], pm["metadata"]["labels"]),
                     repr(pm["metadata"]["labels"]))
            for tpl in pods:
                ck.check("PodMonitor selects the pods",
                         subset(pm["spec"]["selector"].get("matchLabels"),
                                tpl["metadata"]["labels"]),
                         f"{pm['spec']['selector']} vs {tpl['metadata']['labels']}")
            # The series must carry the job label the alert rules select.
            job_relabel = [r for r in ep.get("relabelings") or []
                           if r.get("targetLabel") == "job"]
            job = job_relabel[-1].get("replacement") if job_relabel else None
            ck.check("PodMonitor sets job to monitoring.podMonitor.jobName",
                     job == mon["podMonitor"]["jobName"], repr(job_relabel))
            exprs = " ".join(str(r.get("expr", ""))
                             for g in sources_groups(args.repo)
                             for r in g.get("rules") or [])
            rule_jobs = set(re.findall(r'job\s*=~?\s*"([^"]*)"', exprs))
            if rule_jobs:
                ck.check(f"alert rules select the scraped job ({job})",
                         rule_jobs == {job}, f"rules select {sorted(rule_jobs)}")
            if values["tls"]["enabled"] and mon["podMonitor"]["tlsConfig"]:
                ck.check("PodMonitor tlsConfig",
                         ep.get("tlsConfig") == mon["podMonitor"]["tlsConfig"],
                         repr(ep.get("tlsConfig")))
    else:
        ck.check("no PodMonitor when disabled", not pms, len(pms))

    # PrometheusRule: its groups are exactly those of alerts/*.rules.yml.
    prs = of_kind(docs, "PrometheusRule")
    want_groups = sources_groups(args.repo)
    if mon["prometheusRule"]["enabled"] and want_groups:
        if ck.check("one PrometheusRule", len(prs) == 1, len(prs)):
            got_groups = prs[0]["spec"]["groups"]
            ck.check(f"PrometheusRule groups equal alerts/*.rules.yml "
                     f"({len(want_groups)} groups)", got_groups == want_groups,
                     "rendered groups differ from the sources")
            names = [g.get("name") for g in got_groups]
            ck.check("PrometheusRule group names unique",
                     len(names) == len(set(names)), repr(names))
            ck.check("PrometheusRule has the configured labels",
                     subset(mon["prometheusRule"]["labels"],
                            prs[0]["metadata"]["labels"]),
                     repr(prs[0]["metadata"]["labels"]))
    elif mon["prometheusRule"]["enabled"]:
        ck.check("no PrometheusRule while alerts/ has no groups", not prs, len(prs))
    else:
        ck.check("no PrometheusRule when disabled", not prs, len(prs))

    # Dashboards: one labelled ConfigMap per dashboards/*.json, same JSON.
    cms = [d for d in of_kind(docs, "ConfigMap")
           if "-dashboard-" in d["metadata"]["name"]]
    sources = sorted(glob.glob(os.path.join(args.repo, "dashboards", "*.json")))
    if mon["dashboards"]["enabled"]:
        ck.check(f"one dashboard ConfigMap per dashboards/*.json ({len(sources)})",
                 len(cms) == len(sources), f"{len(cms)} ConfigMaps")
        rendered = {}
        for cm in cms:
            ck.check(f"{cm['metadata']['name']}: Grafana sidecar labels",
                     subset(mon["dashboards"]["labels"], cm["metadata"]["labels"]),
                     repr(cm["metadata"]["labels"]))
            ck.check(f"{cm['metadata']['name']}: annotations",
                     subset(mon["dashboards"]["annotations"],
                            cm["metadata"].get("annotations") or {}),
                     repr(cm["metadata"].get("annotations")))
            rendered.update(cm.get("data") or {})
        for path in sources:
            with open(path, encoding="utf-8") as f:
                want = json.load(f)
            # ConfigMap keys allow only [-._a-zA-Z0-9]; the chart maps the rest to _.
            key = re.sub(r"[^-._a-zA-Z0-9]+", "_", os.path.basename(path))
            got = rendered.get(key)
            ck.check(f"dashboard {os.path.basename(path)} equals its source",
                     got is not None and json.loads(got) == want,
                     "missing or different")
    else:
        ck.check("no dashboard ConfigMaps when disabled", not cms, len(cms))

    # Object identities are unique.
    ids = [(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"])
           for d in docs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    ck.check("no two objects share kind, namespace and name", not dupes,
             repr(dupes))

    # Names fit Kubernetes limits.
    long_names = [d["metadata"]["name"] for d in docs
                  if len(d["metadata"]["name"]) > 63]
    ck.check("object names <= 63 characters", not long_names, repr(long_names))

    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())
