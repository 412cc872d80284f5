{{/* Names and labels, the usual way. */}}
{{- define "streamer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "streamer.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "streamer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "streamer.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "streamer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "streamer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "streamer.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "streamer.apiKeySecret" -}}
{{- default (printf "%s-api-key" (include "streamer.fullname" .)) .Values.apiKey.existingSecret }}
{{- end }}

{{/* The configuration text, parsed only for the few keys the manifests depend on. */}}
{{- define "streamer.parsedConfig" -}}
{{- $parsed := fromYaml .Values.config }}
{{- if hasKey $parsed "Error" }}
{{- fail (printf "config: not YAML: %s" (get $parsed "Error")) }}
{{- end }}
{{- toJson $parsed }}
{{- end }}

{{/* metrics.port of the configuration (streamer's default 9108); the probes need it. */}}
{{- define "streamer.metricsPort" -}}
{{- $config := include "streamer.parsedConfig" . | fromJson }}
{{- $metrics := default (dict) (get $config "metrics") }}
{{- if and (hasKey $metrics "port") (not $metrics.port) }}
{{- fail "config: metrics.port is null or 0, but the chart's probes and Service need /healthz, /readyz and /metrics on a fixed port" }}
{{- end }}
{{- $port := default 9108 $metrics.port }}
{{- if not (or (kindIs "float64" $port) (kindIs "int" $port)) }}
{{- fail (printf "config: metrics.port must be a number for the chart (found %v)" $port) }}
{{- end }}
{{- $port | int }}
{{- end }}

{{/* Above delivery.shutdown_grace_s, so that Kubernetes never kills a clean shutdown. */}}
{{- define "streamer.terminationGracePeriod" -}}
{{- $config := include "streamer.parsedConfig" . | fromJson }}
{{- $delivery := default (dict) (get $config "delivery") }}
{{- $grace := default 10 $delivery.shutdown_grace_s }}
{{- if not (or (kindIs "float64" $grace) (kindIs "int" $grace)) }}
{{- fail (printf "config: delivery.shutdown_grace_s must be a number for the chart (found %v)" $grace) }}
{{- end }}
{{- $graceSeconds := $grace | float64 | ceil | int }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $graceSeconds 20 }}
{{- else }}
{{- if le (int .Values.terminationGracePeriodSeconds) $graceSeconds }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be above delivery.shutdown_grace_s (%v)" .Values.terminationGracePeriodSeconds $grace) }}
{{- end }}
{{- .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* Label matchers of this release's series, for the alerting rules. */}}
{{- define "streamer.ruleSelector" -}}
{{- if .Values.prometheusRule.selector }}
{{- .Values.prometheusRule.selector }}
{{- else }}
{{- printf "job=%q,namespace=%q" (include "streamer.fullname" .) .Release.Namespace }}
{{- end }}
{{- end }}

{{/* The environment of both containers: the API key, then the user's. */}}
{{- define "streamer.env" -}}
- name: {{ .Values.apiKey.envVar }}
  valueFrom:
    secretKeyRef:
      name: {{ include "streamer.apiKeySecret" . }}
      key: {{ .Values.apiKey.secretKey }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "streamer.volumeMounts" -}}
- name: config
  mountPath: /etc/streamer
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}
