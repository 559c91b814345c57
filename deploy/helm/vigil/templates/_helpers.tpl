{{/* Names and labels, the usual Helm way. */}}
{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vigil.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "vigil.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "vigil.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* What the Deployment, Service, ServiceMonitor, PDB and NetworkPolicy select on: never add to it
after a release, selectors are immutable. */}}
{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "vigil.labels" -}}
{{ include "vigil.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vigil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vigil.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the gateway's environment comes from: yours, the chart's, or none. */}}
{{- define "vigil.secretName" -}}
{{- if .Values.secret.existingSecret }}
{{- .Values.secret.existingSecret }}
{{- else if .Values.secret.env }}
{{- include "vigil.fullname" . }}
{{- end }}
{{- end }}

{{/* Ports and paths come from the Vigil config itself, so the pod, the Service and the
ServiceMonitor cannot disagree with what the gateway listens on. Helm reads numbers as float64: int. */}}
{{- define "vigil.httpPort" -}}
{{- dig "server" "port" 8080 (.Values.config | default dict) | int }}
{{- end }}

{{- define "vigil.metricsListener" -}}
{{- if dig "metrics" "listener" "enabled" false (.Values.config | default dict) }}true{{ end }}
{{- end }}

{{- define "vigil.metricsPort" -}}
{{- dig "metrics" "listener" "port" 9091 (.Values.config | default dict) | int }}
{{- end }}

{{/* The port the metrics are scraped on: the dedicated listener when it is on, else the API port. */}}
{{- define "vigil.metricsPortName" -}}
{{- if include "vigil.metricsListener" . }}metrics{{ else }}http{{ end }}
{{- end }}

{{- define "vigil.metricsPath" -}}
{{- dig "metrics" "path" "/metrics" (.Values.config | default dict) }}
{{- end }}

{{/* preStop + drain + the final OTLP flush (bounded by its export timeout) + 5 s of margin, unless
set; a set value must leave the drain its time. */}}
{{- define "vigil.terminationGracePeriodSeconds" -}}
{{- $config := .Values.config | default dict }}
{{- $preStop := .Values.shutdown.preStopSleepSeconds | int }}
{{- $drain := div (add (dig "server" "drain_timeout_ms" 30000 $config | int) 999) 1000 }}
{{- $otlp := div (add (dig "telemetry" "otlp" "batch" "export_timeout_ms" 10000 $config | int) 999) 1000 }}
{{- with .Values.shutdown.terminationGracePeriodSeconds }}
{{- if le (int .) (add $preStop $drain | int) }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + server.drain_timeout_ms (%d s), or the drain is cut short by SIGKILL" (int .) (add $preStop $drain)) }}
{{- end }}
{{- int . }}
{{- else }}
{{- add $preStop $drain $otlp 5 }}
{{- end }}
{{- end }}
