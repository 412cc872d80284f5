// Validates custom resources against their published models (npm @kubernetes-models/*):
//   node validate_crs.mjs MODELS_DIR < documents.json     (a JSON array of manifests)
// MODELS_DIR is the tools cache's npm prefix (streamer.testing.ensure_chart_tools().models).
// Prints one line per problem and exits 1 if there is any; an unknown kind is a problem too.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const models = process.argv[2];
const load = (path) =>
  import(pathToFileURL(join(models, "node_modules/@kubernetes-models", path, "index.js")).href);
const keda = await load("keda/keda.sh/v1alpha1");
const monitoring = await load("prometheus-operator/monitoring.coreos.com/v1");
const classes = {
  "keda.sh/v1alpha1/ScaledObject": keda.ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": keda.TriggerAuthentication,
  "monitoring.coreos.com/v1/ServiceMonitor": monitoring.ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": monitoring.PrometheusRule,
};

const problems = [];
for (const doc of JSON.parse(readFileSync(0, "utf8"))) {
  const kind = `${doc.apiVersion}/${doc.kind}`;
  const Model = classes[kind];
  if (!Model) {
    problems.push(`${kind}: no model known`);
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`ok ${kind} ${doc.metadata?.name}`);
  } catch (error) {
    problems.push(`${kind} ${doc.metadata?.name}: ${error.message}`);
  }
}
for (const problem of problems) console.log(`INVALID ${problem}`);
process.exit(problems.length ? 1 : 0);
