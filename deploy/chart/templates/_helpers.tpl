{{/* Labels of one component: name, part-of, component. */}}
{{- define "tether.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: tether
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tether.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The Pod and container hardening every tether process shares. */}}
{{- define "tether.podSecurity" -}}
runAsNonRoot: true
runAsUser: 999
runAsGroup: 999
fsGroup: 999
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "tether.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}
