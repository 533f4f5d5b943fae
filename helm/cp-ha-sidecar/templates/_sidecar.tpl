{{/*
Named templates for putting the sidecar into any pod.

  cp-ha-sidecar.container  one list item for spec.containers
  cp-ha-sidecar.volumes    list items for spec.volumes (the secret files)
  cp-ha-sidecar.podLabels  map entries for the pod template's labels
  cp-ha-sidecar.terminationGracePeriodSeconds
                           the validated grace period (a number)

Each takes this chart's context; see _helpers.tpl. Example from a parent
chart that lists cp-ha-sidecar as a dependency:

  {{- $ha := index .Subcharts "cp-ha-sidecar" }}
  containers:
    - name: my-control-plane
      ...
    {{- include "cp-ha-sidecar.container" $ha | nindent 4 }}
  volumes:
    {{- include "cp-ha-sidecar.volumes" $ha | nindent 4 }}
*/}}

{{- define "cp-ha-sidecar.container" -}}
{{- $sc := .Values.sidecar -}}
{{- $dir := include "cp-ha-sidecar.secretsDir" . -}}
{{- $scheme := include "cp-ha-sidecar.scheme" . -}}
{{- $preStop := include "cp-ha-sidecar.preStopKind" . -}}
- name: {{ $sc.name }}
  image: {{ include "cp-ha-sidecar.imageRef" (dict "image" $sc.image "defaultTag" .Chart.AppVersion) | quote }}
  imagePullPolicy: {{ $sc.image.pullPolicy }}
  {{- if or $sc.maintenance $sc.extraArgs }}
  args:
    {{- if $sc.maintenance }}
    - --maintenance
    {{- end }}
    {{- range $sc.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  {{- end }}
  env:
    # Holder identity: the pod name (the binary adds a per-start id).
    - name: CP_HA_HOLDER_ID
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: CP_HA_LISTEN
      value: {{ printf "%s:%d" $sc.listenAddress (int $sc.port) | quote }}
    # Secrets are files from a Secret volume; only their paths are here.
    - name: CP_HA_POSTGRES_URL_FILE
      value: {{ printf "%s/postgres-url" $dir | quote }}
    {{- if .Values.adminToken.enabled }}
    - name: CP_HA_ADMIN_TOKEN_FILE
      value: {{ printf "%s/admin-token" $dir | quote }}
    {{- end }}
    {{- if .Values.tls.enabled }}
    - name: CP_HA_TLS_CERT_FILE
      value: {{ printf "%s/tls.pem" $dir | quote }}
    {{- end }}
    {{- range $key, $value := $sc.config }}
    {{- if not (or (kindIs "invalid" $value) (eq (toString $value) "")) }}
    - name: {{ printf "CP_HA_%s" ($key | snakecase | upper) }}
      {{- if kindIs "float64" $value }}
      value: {{ $value | int64 | toString | quote }}
      {{- else }}
      value: {{ $value | toString | quote }}
      {{- end }}
    {{- end }}
    {{- end }}
    {{- with $sc.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: {{ $sc.portName }}
      containerPort: {{ int $sc.port }}
      protocol: TCP
  # Liveness runs no SQL: a slow database must not restart the sidecar.
  livenessProbe:
    httpGet:
      path: /v1/health/live
      port: {{ $sc.portName }}
      scheme: {{ $scheme }}
    {{- toYaml $sc.livenessProbe | nindent 4 }}
  # Readiness is read-ready on every pod. write-ready is never a readiness
  # probe: only the leader would be Ready.
  readinessProbe:
    httpGet:
      path: /v1/health/read-ready
      port: {{ $sc.portName }}
      scheme: {{ $scheme }}
    {{- toYaml $sc.readinessProbe | nindent 4 }}
  {{- if ne $preStop "none" }}
  # Keep write authority while the control plane drains, then SIGTERM makes
  # the sidecar resign (closeout + lock release) within resignSeconds.
  lifecycle:
    preStop:
      {{- if eq $preStop "sleep" }}
      sleep:
        seconds: {{ int $sc.shutdown.preStopSleepSeconds }}
      {{- else }}
      exec:
        command: ["sleep", {{ int $sc.shutdown.preStopSleepSeconds | toString | quote }}]
      {{- end }}
  {{- end }}
  resources:
    {{- toYaml $sc.resources | nindent 4 }}
  securityContext:
    {{- toYaml $sc.securityContext | nindent 4 }}
  volumeMounts:
    - name: cp-ha-sidecar-secrets
      mountPath: {{ $dir }}
      readOnly: true
{{- end -}}

{{/* One projected volume with every secret file the sidecar reads. */}}
{{- define "cp-ha-sidecar.volumes" -}}
- name: cp-ha-sidecar-secrets
  projected:
    defaultMode: {{ int .Values.secretsVolume.defaultMode }}
    sources:
      - secret:
          name: {{ include "cp-ha-sidecar.postgresSecretName" . }}
          items:
            - key: {{ .Values.postgres.secretKey }}
              path: postgres-url
      {{- if .Values.adminToken.enabled }}
      - secret:
          name: {{ include "cp-ha-sidecar.adminTokenSecretName" . }}
          items:
            - key: {{ .Values.adminToken.secretKey }}
              path: admin-token
      {{- end }}
      {{- if .Values.tls.enabled }}
      - secret:
          name: {{ include "cp-ha-sidecar.tlsSecretName" . }}
          items:
            - key: {{ .Values.tls.secretKey }}
              path: tls.pem
      {{- end }}
{{- end -}}
