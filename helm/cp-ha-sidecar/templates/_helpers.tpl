{{/*
Helpers for the cp-ha-sidecar chart.

Every template here takes a chart context: `.Values` must be this chart's
values, `.Release` and `.Chart` this chart's objects. Inside this chart that
is `.`; from a parent chart that has this chart as a dependency it is
`(index .Subcharts "cp-ha-sidecar")`. Names never depend on the caller's
chart name, so a parent's include and this chart's own Secrets agree.
*/}}

{{/* The chart's short name. */}}
{{- define "cp-ha-sidecar.name" -}}
{{- default "cp-ha-sidecar" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object name: <release>-cp-ha-sidecar, at most 63 chars. */}}
{{- define "cp-ha-sidecar.fullname" -}}
{{- $name := include "cp-ha-sidecar.name" . -}}
{{- $full := "" -}}
{{- if .Values.fullnameOverride -}}
{{- $full = .Values.fullnameOverride -}}
{{- else if contains $name .Release.Name -}}
{{- $full = .Release.Name -}}
{{- else -}}
{{- $full = printf "%s-%s" .Release.Name $name -}}
{{- end -}}
{{- $full | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select this release's pods (full mode). */}}
{{- define "cp-ha-sidecar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cp-ha-sidecar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object the chart renders. */}}
{{- define "cp-ha-sidecar.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cp-ha-sidecar.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
Pod label that marks a pod as running this release's sidecar. The PodMonitor
selects on it, in both modes. A parent chart adds it to its pod template:
  labels:
    {{- include "cp-ha-sidecar.podLabels" (index .Subcharts "cp-ha-sidecar") | nindent 8 }}
*/}}
{{- define "cp-ha-sidecar.podLabels" -}}
cp-ha-sidecar/member: {{ include "cp-ha-sidecar.fullname" . }}
{{- end -}}

{{/* image reference: repository@digest, else repository:tag. */}}
{{- define "cp-ha-sidecar.imageRef" -}}
{{- $img := .image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (toString (default .defaultTag $img.tag)) -}}
{{- end -}}
{{- end -}}

{{/* Names of the Secrets the sidecar reads. */}}
{{- define "cp-ha-sidecar.postgresSecretName" -}}
{{- default (printf "%s-postgres" (include "cp-ha-sidecar.fullname" .)) .Values.postgres.existingSecret -}}
{{- end -}}

{{- define "cp-ha-sidecar.adminTokenSecretName" -}}
{{- default (printf "%s-admin-token" (include "cp-ha-sidecar.fullname" .)) .Values.adminToken.existingSecret -}}
{{- end -}}

{{- define "cp-ha-sidecar.tlsSecretName" -}}
{{- required "tls.enabled needs tls.existingSecret: a Secret holding one PEM file with the certificate chain and the key" .Values.tls.existingSecret -}}
{{- end -}}

{{/* Where the secret files appear inside the sidecar container. */}}
{{- define "cp-ha-sidecar.secretsDir" -}}
/var/run/secrets/cp-ha-sidecar
{{- end -}}

{{- define "cp-ha-sidecar.scheme" -}}
{{- if .Values.tls.enabled -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{- define "cp-ha-sidecar.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cp-ha-sidecar.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Shutdown arithmetic. The kubelet runs the preStop sleep, then sends SIGTERM;
the sidecar then needs resignSeconds to close its epoch and release the
lock. The whole pod shares terminationGracePeriodSeconds, so it must be at
least preStop + resign + margin. Renders the validated grace period, or
fails the render with the numbers.
*/}}
{{- define "cp-ha-sidecar.minTerminationGracePeriodSeconds" -}}
{{- $s := .Values.sidecar.shutdown -}}
{{- $preStop := 0 -}}
{{- if ne (include "cp-ha-sidecar.preStopKind" .) "none" -}}
{{- $preStop = int $s.preStopSleepSeconds -}}
{{- end -}}
{{- add $preStop (int $s.resignSeconds) (int $s.marginSeconds) -}}
{{- end -}}

{{- define "cp-ha-sidecar.terminationGracePeriodSeconds" -}}
{{- $grace := int .Values.workload.terminationGracePeriodSeconds -}}
{{- $min := int (include "cp-ha-sidecar.minTerminationGracePeriodSeconds" .) -}}
{{- if lt $grace $min -}}
{{- fail (printf "workload.terminationGracePeriodSeconds=%d is below preStop (%d) + resign (%d) + margin (%d) = %d seconds; raise it or shorten sidecar.shutdown.preStopSleepSeconds" $grace (int .Values.sidecar.shutdown.preStopSleepSeconds) (int .Values.sidecar.shutdown.resignSeconds) (int .Values.sidecar.shutdown.marginSeconds) $min) -}}
{{- end -}}
{{- $grace -}}
{{- end -}}

{{/* The preStop form actually rendered: sleep, exec or none. */}}
{{- define "cp-ha-sidecar.preStopKind" -}}
{{- $action := .Values.sidecar.shutdown.preStopAction -}}
{{- if or (eq $action "none") (eq (int .Values.sidecar.shutdown.preStopSleepSeconds) 0) -}}
none
{{- else if eq $action "auto" -}}
{{- if semverCompare ">=1.30.0-0" .Capabilities.KubeVersion.Version -}}sleep{{- else -}}exec{{- end -}}
{{- else -}}
{{- $action -}}
{{- end -}}
{{- end -}}
