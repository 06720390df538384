//! Every finding's id, in one enum: the catalogue a script or a reviewer can rely on.
//!
//! An id is a stable kebab-case string in `--format json` and in `plan`'s text; renaming one
//! breaks whoever filters on it, so ids are added, never renamed. `docs/findings.md` is this
//! catalogue rendered (a test keeps the two equal: `UPDATE_DOCS=1 cargo nextest run
//! findings_doc` rewrites it).

use serde::Serialize;

macro_rules! finding_ids {
    ($($section:literal { $($variant:ident = $id:literal: $summary:literal,)+ })+) => {
        /// What a finding is about; see the module docs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FindingId {
            $($(
                #[doc = $summary]
                $variant,
            )+)+
        }

        impl FindingId {
            /// Every id, in catalogue order.
            pub const ALL: &'static [FindingId] = &[$($(FindingId::$variant,)+)+];

            /// The stable kebab-case id.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($(FindingId::$variant => $id,)+)+
                }
            }

            /// One sentence on what the finding means.
            pub fn summary(self) -> &'static str {
                match self {
                    $($(FindingId::$variant => $summary,)+)+
                }
            }

            /// The catalogue section it is listed under.
            pub fn section(self) -> &'static str {
                match self {
                    $($(FindingId::$variant => $section,)+)+
                }
            }
        }
    };
}

finding_ids! {
    "Discovery" {
        NoPushgateway = "no-pushgateway": "No Pushgateway was found in the stack, so the phase has nothing to do.",
        PushedIdentity = "pushed-identity": "The job (and instance) an app pushes as, with the evidence for it.",
        PushedIdentityAssumed = "pushed-identity-assumed": "Nothing says which job an app pushes as; its service name is assumed.",
        PushedIdentityUndecided = "pushed-identity-undecided": "The evidence names several jobs an app may push as; what depends on it waits for a pin in pullover.yaml.",
        PushedIdentityPinnedOverEvidence = "pushed-identity-pinned-over-evidence": "pullover.yaml pins a job the app's code or queries contradict; the pin wins.",
        MountOutsideStack = "mount-outside-stack": "A service mounts a path outside the stack folder, which pullover neither reads nor edits.",
        CodeOutsideStack = "code-outside-stack": "A service is built from outside the stack folder: its push calls are not read.",
        RuleFilesOutsideStack = "rule-files-outside-stack": "`rule_files` points outside the stack folder: those rules are not read or rewritten.",
        UnreadableQueryFile = "unreadable-query-file": "`analyze`: a dashboard or rule file cannot be read, so its queries are not listed.",
        SharedVolume = "shared-volume": "`analyze`: the gateway's volume is mounted by other services too.",
        CountersResetAroundPush = "counters-reset-around-push": "The push code resets its metrics around a push: scraped counters will show resets.",
        RegistryPerPush = "registry-per-push": "A registry is created inside the function that pushes: each push restarts its counters.",
        GaugeSetToDelta = "gauge-set-to-delta": "A gauge is set to a per-interval delta: a scrape reads another interval's value.",
    }
    "Kubernetes discovery" {
        KubeDashboardNotEditable = "kube-dashboard-not-editable": "A dashboard comes from a URL, grafana.com or jsonnet, which pullover cannot edit in the repository.",
        KubePusherWithoutPort = "kube-pusher-without-port": "A pushing workload declares no container port to scrape.",
        KubeAggregationGateway = "kube-aggregation-gateway": "An aggregation gateway: its series sum several pushers and are never rewritten.",
        KubeBatchPusherKeepsGateway = "kube-batch-pusher-keeps-gateway": "A CronJob or Job pushes: it stays on the gateway, and so does the gateway.",
    }
    "scrape" {
        ExternalGateway = "external-gateway": "The Pushgateway is not a service of this stack.",
        AlreadyScraped = "already-scraped": "The app is already scraped by a job.",
        JobNameTaken = "job-name-taken": "A job with the app's name exists but scrapes something else; left as it is.",
        AppServesNoMetrics = "app-serves-no-metrics": "The app pushes and its code serves no /metrics: the new target will be down.",
        AppNotInCompose = "app-not-in-compose": "The app is not a Compose service; Prometheus must reach it at the address given.",
        DoubleCountDuringDualRun = "double-count-during-dual-run": "Pushed and scraped series carry the same job while both run: sums count twice.",
        TargetLabelsCopied = "target-labels-copied": "The gateway's target labels that queries select on are copied onto the new target.",
        RangeUnderFourIntervals = "range-under-four-intervals": "A range in a query is shorter than four scrape intervals of the new target.",
        KubeNoSelectorLabels = "kube-no-selector-labels": "The gateway's ServiceMonitor carries no labels to copy for the Prometheus selector.",
        KubeServicemonitorExists = "kube-servicemonitor-exists": "The ServiceMonitor pullover would write exists already.",
        KubePodmonitorExists = "kube-podmonitor-exists": "The PodMonitor pullover would write exists already.",
        KubePodmonitorPortNumber = "kube-podmonitor-port-number": "An unnamed container port is selected by `portNumber`, which older operators ignore.",
        KubeScrapeJobExists = "kube-scrape-job-exists": "The Prometheus configuration has the app's job already.",
        KubePodsScrapedByAnnotation = "kube-pods-scraped-by-annotation": "The app's pods are scraped by annotation too: the new job would double them.",
    }
    "expose" {
        AlreadyServesMetrics = "already-serves-metrics": "The app serves /metrics already.",
        NoPushCodeRead = "no-push-code-read": "No push call was found in the app's code: whether it serves /metrics is unknown.",
        ServeMetricsByHand = "serve-metrics-by-hand": "The app's code is of a shape pullover does not edit: serve /metrics by hand.",
        ActuatorOnAnotherPort = "actuator-on-another-port": "Spring's actuator listens on another port than the scrape job targets.",
        AddDependencyByHand = "add-dependency-by-hand": "The HTTP server library must be added to the build by hand.",
        PushReplacesGroup = "push-replaces-group": "A push replaces the whole group and its key has no instance: replicas overwrite each other.",
    }
    "dual-run" {
        NoKnownMetrics = "no-known-metrics": "No metric of the app is known: the rules only check that its scrape is not missing.",
        NoDashboardsFolder = "no-dashboards-folder": "No provisioned dashboards folder: the comparison dashboard is not written.",
        NotInContainer = "not-in-container": "The written file is not mounted into the container that should load it.",
        MountAdded = "mount-added": "A mount was added so the container reads the written file.",
        UnreadableDashboard = "unreadable-dashboard": "A dashboard could not be read; no metric was learnt from it.",
        UnreadableRuleFile = "unreadable-rule-file": "A rule file could not be read; no metric was learnt from it.",
        KubeNoSidecarDashboards = "kube-no-sidecar-dashboards": "No dashboard ConfigMap with the sidecar label: the comparison dashboard is not written.",
    }
    "dashboards" {
        DualRunArtefactSkipped = "dual-run-artefact-skipped": "A dual-run comparison file is left as it is on purpose.",
        QueryNotRead = "query-not-read": "A query sits where pullover does not read queries: it may select pushed series.",
        LibraryPanel = "library-panel": "A library panel's queries live in Grafana, not in the file.",
        QuerySkipped = "query-skipped": "A query of a non-Prometheus data source is not read as PromQL.",
        PanelLinkQuery = "panel-link-query": "A panel link carries a query in its URL, which is not rewritten.",
        WaitsForPushedIdentity = "waits-for-pushed-identity": "A query waits for the app's pushed job to be decided.",
        UnparseableQuery = "unparseable-query": "The query does not parse; it is left unchanged.",
        FileNotRewritten = "file-not-rewritten": "A file could not be rewritten exactly and is left unchanged.",
        QueryNotRewritten = "query-not-rewritten": "A query's rewrite is held back because its file is left unchanged.",
        LegendUsesExportedLabel = "legend-uses-exported-label": "A legend shows an `exported_*` label that scraped series do not have.",
        VariableOptionsChange = "variable-options-change": "A template variable's values change once the series are scraped.",
        NoScrapedEquivalent = "no-scraped-equivalent": "The query reads a series only the gateway has (such as `push_time_seconds`).",
        MatchesNothingUnderHonorLabels = "matches-nothing-under-honor-labels": "Under `honor_labels: true` the query's gateway labels match nothing.",
        AmbiguousApp = "ambiguous-app": "The query's series could come from several apps.",
        PushedJobNotMigrated = "pushed-job-not-migrated": "The query reads a pushed job no migrated app pushes: it stays on the gateway.",
        ComparesPushedAndScraped = "compares-pushed-and-scraped": "The query compares pushed and scraped series on purpose.",
        RegexNeedsReview = "regex-needs-review": "A regex matcher is not a plain alternation of literals.",
        VariableNeedsReview = "variable-needs-review": "A matcher made of a template variable whose values must change too.",
        DuplicateGroupingLabel = "duplicate-grouping-label": "`by (job, exported_job)`: rewriting would repeat `job`.",
        LabelNeedsReview = "label-needs-review": "`label_replace`/`label_join` writes an `exported_*` label.",
        UnsupportedSyntax = "unsupported-syntax": "Syntax pullover does not edit.",
        RejectedByPrometheusVersion = "rejected-by-prometheus-version": "The stack's Prometheus version or flags reject the query as written.",
        KubeInstanceAsService = "kube-instance-as-service": "Queries pinned to a pushed instance now select the app's Service.",
        KubeInstancePinned = "kube-instance-pinned": "A rewrite would select by `instance`, a pod's address on Kubernetes; the file is left.",
        KubeBatchQueryStays = "kube-batch-query-stays": "A query on a batch job's pushed series stays: the job keeps pushing.",
        KubeGatewayTargetLabel = "kube-gateway-target-label": "A query filters on the gateway's own target label, which goes with the gateway.",
    }
    "remove" {
        GatewayNotInCompose = "gateway-not-in-compose": "The Pushgateway is not a Compose service: nothing to remove there.",
        AppNotScraped = "app-not-scraped": "An app has no scrape job yet: without the gateway its metrics would stop.",
        EnvVarKept = "env-var-kept": "A push setting is kept because the app may need it.",
        EnvVarRemoved = "env-var-removed": "A push setting only the push logic read was removed.",
        ReferenceThroughAnchor = "reference-through-anchor": "A reference to the gateway comes from a YAML anchor; left as it is.",
        OrphanContainer = "orphan-container": "`docker compose up -d` alone leaves the gateway's container running.",
        NetworkModeOnGateway = "network-mode-on-gateway": "A service shares the gateway's network (`network_mode`).",
        VolumeDataLeft = "volume-data-left": "The gateway's volume is no longer declared; Docker keeps its data.",
        SharedVolumeKept = "shared-volume-kept": "A volume is kept because other services mount it.",
        ProfileUnused = "profile-unused": "A Compose profile no service uses any more.",
        PushLogic = "push-logic": "An app still pushes to the gateway.",
        EnvFileEntry = "env-file-entry": "An env file entry still points at the gateway.",
        RuleOnGatewaySeries = "rule-on-gateway-series": "A rule reads series that go away with the gateway.",
        RuleOnPushedSeries = "rule-on-pushed-series": "A rule still selects pushed series.",
        PanelOnGatewaySeries = "panel-on-gateway-series": "Dashboard panels read series that go away with the gateway.",
        PanelOnPushedSeries = "panel-on-pushed-series": "Dashboard panels still select pushed series.",
        PushCodeKept = "push-code-kept": "Push code in a language or shape `--remove-push-code` does not edit.",
        PushMentionsLeft = "push-mentions-left": "After the edit, comments or messages still speak of pushing.",
        PushSettingsLeft = "push-settings-left": "Micrometer's push is off; its other settings stay.",
        GatewayByDockerLabels = "gateway-by-docker-labels": "A job finds the gateway by Docker labels and stays for the other containers.",
        GatewayJobBySetting = "gateway-job-by-setting": "A job removed because pullover.yaml names it the gateway's job.",
        GatewayTargetRemoved = "gateway-target-removed": "Only the gateway's target was removed from a job with other targets.",
        GatewayByServiceDiscovery = "gateway-by-service-discovery": "A job finds the gateway by service discovery; left as it is.",
        NoGatewayJob = "no-gateway-job": "No scrape job targets the gateway.",
        CommandPointsAtGateway = "command-points-at-gateway": "A container's command or args still name the gateway; kept.",
        KubePushCodeLeft = "kube-push-code-left": "A workload's code still pushes, now to no gateway.",
        KubeGatewayStays = "kube-gateway-stays": "The gateway stays: batch jobs still push to it.",
        KubeUninstallGatewayRelease = "kube-uninstall-gateway-release": "Deleting the values file does not uninstall the gateway's Helm release.",
        KubeGatewayReleaseRemoved = "kube-gateway-release-removed": "The gateway's Argo CD or Flux release object is removed.",
        KubeGatewayReleaseOrphaned = "kube-gateway-release-orphaned": "The removed Argo CD Application has no resources finalizer: the gateway keeps running.",
        KubeNetworkPolicyLeft = "kube-network-policy-left": "A NetworkPolicy whose only egress leads to the gateway is left as it is.",
    }
    "docs" {
        NoDocsSpot = "no-docs-spot": "No architecture line or metrics-flow section to update.",
        PushgatewayMention = "pushgateway-mention": "A line in docs or code still mentions the Pushgateway.",
        PushgatewayMentionsLeft = "pushgateway-mentions-left": "How many lines still mention the Pushgateway.",
    }
}

impl Serialize for FindingId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for FindingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tests and scripts compare with the id as it is printed.
impl PartialEq<&str> for FindingId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// `docs/findings.md`: the catalogue as the README links it.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# Findings\n\n\
         Every finding `plan`, `apply` and `analyze` print has one of these ids (in `--format json`, \
         its `id`). Ids are stable: new ones are added, none is renamed. This file is generated \
         from `src/changeset/finding_id.rs`.\n",
    );
    let mut section = "";
    for id in FindingId::ALL {
        if id.section() != section {
            section = id.section();
            out.push_str(&format!("\n## {section}\n\n| id | meaning |\n| --- | --- |\n"));
        }
        out.push_str(&format!(
            "| `{}` | {} |\n",
            id.as_str(),
            id.summary().replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for id in FindingId::ALL {
            let text = id.as_str();
            assert!(
                text.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{text} is not kebab-case"
            );
            assert!(seen.insert(text), "{text} twice");
        }
    }

    #[test]
    fn findings_doc_is_the_catalogue() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/findings.md");
        let expected = catalogue_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &expected).expect("write docs/findings.md");
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/findings.md is not the catalogue: run `UPDATE_DOCS=1 cargo nextest run findings_doc`"
        );
    }
}
