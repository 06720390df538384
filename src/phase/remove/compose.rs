//! The Compose side of `remove`: the gateway service and what would dangle.
//!
//! Edits are planned on the file as written (`doc.value()`, merges not
//! applied), because that is what the text says; what a service only gets
//! through `<<: *anchor` is reported, not edited, since changing the anchor
//! would change every service that uses it.

use std::ops::Range;

use yaml_serde::{Mapping, Value};

use super::leftovers::{ReadKind, env_reads};
use super::push_code::Outcome as PushCode;
use super::{is_gateway_env, points_at};
use crate::changeset::finding_id::FindingId;
use crate::changeset::{Finding, Location, Severity};
use crate::edit::yaml::{AnchorMark, ItemMatch, Route, YamlEdit, scalar_string};
use crate::stack::compose::Compose;
use crate::stack::{Gateway, Stack};

pub(super) struct Outcome {
    pub edits: Vec<YamlEdit>,
    pub findings: Vec<Finding>,
}

struct Planner<'a> {
    stack: &'a Stack,
    /// The code as `--remove-push-code` leaves it: what it still reads decides the env vars.
    push_code: &'a PushCode,
    compose: &'a Compose,
    gateway: &'a Gateway,
    service: &'a str,
    edits: Vec<YamlEdit>,
    /// Byte ranges (in the file as read) of everything removed, for deciding
    /// which anchors lose their last user.
    removed: Vec<Range<usize>>,
    findings: Vec<Finding>,
}

pub(super) fn plan(
    stack: &Stack,
    compose: &Compose,
    gateway: &Gateway,
    service: &str,
    push_code: &PushCode,
) -> Outcome {
    let mut planner = Planner {
        stack,
        push_code,
        compose,
        gateway,
        service,
        edits: Vec::new(),
        removed: Vec::new(),
        findings: Vec::new(),
    };
    planner.run();
    Outcome {
        edits: planner.edits,
        findings: planner.findings,
    }
}

fn services_route() -> Route {
    Route::root().key("services")
}

impl Planner<'_> {
    fn run(&mut self) {
        let raw_services = self
            .compose
            .doc
            .value()
            .get("services")
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        if !raw_services.contains_key(self.service) {
            self.findings.push(Finding::new(
                FindingId::GatewayNotInCompose,
                Severity::Hazard,
                format!(
                    "the gateway service `{}` is not in {}: nothing removed there",
                    self.service, self.compose.file.path
                ),
            ));
            return;
        }
        self.remove(services_route().key(self.service));
        self.note_orphan_container();
        for (name, raw) in &raw_services {
            let Some(name) = scalar_string(name) else { continue };
            if name != self.service {
                self.other_service(&name, raw);
            }
        }
        self.volumes();
        self.profiles();
        self.extension_blocks();
    }

    fn file(&self) -> &crate::stack::source::SourceFile {
        &self.compose.file
    }

    fn location(&self, route: &Route) -> Location {
        let offset = self.compose.doc.extent(route).map_or(0, |r| r.start);
        Location::at(self.file(), offset)
    }

    /// Plans a removal, or reports it when the route leads through an alias.
    fn remove(&mut self, route: Route) -> bool {
        match self.compose.doc.extent(&route) {
            Some(range) => {
                self.removed.push(range);
                self.edits.push(YamlEdit::Remove { route });
                true
            }
            None => {
                self.findings.push(
                    Finding::new(
                        FindingId::ReferenceThroughAnchor,
                        Severity::Hazard,
                        format!("`{route}` comes from an anchor (`*…`); left as it is"),
                    )
                    .tip("remove it from the anchored block by hand if no other service needs it"),
                );
                false
            }
        }
    }

    fn note_orphan_container(&mut self) {
        let location = self.location(&services_route().key(self.service));
        self.findings.push(
            Finding::new(
                FindingId::OrphanContainer,
                Severity::Info,
                format!(
                    "`docker compose up -d` alone leaves the running {} container behind",
                    self.service
                ),
            )
            .tip(format!(
                "deploy with `docker compose up -d --remove-orphans`, or stop it with `docker compose rm -sf {}` first",
                self.service
            ))
            .at(location),
        );
    }

    fn other_service(&mut self, name: &str, raw: &Value) {
        let route = services_route().key(name);
        let merged = self.compose.service(name);
        // depends_on: list (`- pushgateway`) or map (`pushgateway: {condition: …}`).
        match raw.get("depends_on") {
            Some(Value::Sequence(items)) => {
                let service = self.service;
                for item in items.iter().filter_map(scalar_string).filter(|i| i == service) {
                    self.remove(route.clone().key("depends_on").item(ItemMatch::Scalar(item)));
                }
            }
            Some(Value::Mapping(map)) if map.contains_key(self.service) => {
                self.remove(route.clone().key("depends_on").key(self.service));
            }
            _ => {}
        }
        // links / volumes_from: `pushgateway`, `pushgateway:alias`, `pushgateway:ro`.
        for key in ["links", "volumes_from", "external_links"] {
            if let Some(Value::Sequence(items)) = raw.get(key) {
                let matching: Vec<String> = items
                    .iter()
                    .filter_map(scalar_string)
                    .filter(|i| i.split(':').next() == Some(self.service))
                    .collect();
                for item in matching {
                    self.remove(route.clone().key(key).item(ItemMatch::Scalar(item)));
                }
            }
        }
        if raw
            .get("network_mode")
            .and_then(scalar_string)
            .is_some_and(|m| m == format!("service:{}", self.service))
        {
            let location = self.location(&route.clone().key("network_mode"));
            self.findings.push(
                Finding::new(
                    FindingId::NetworkModeOnGateway,
                    Severity::Hazard,
                    format!("{name} shares the network of {} (`network_mode`)", self.service),
                )
                .tip("give it its own network before the gateway goes; pullover leaves this line alone")
                .at(location),
            );
        }
        self.environment(name, raw);
        if let Some(merged) = merged {
            let raw_depends = match raw.get("depends_on") {
                Some(Value::Mapping(m)) => m.keys().filter_map(scalar_string).collect(),
                Some(other) => other
                    .as_sequence()
                    .map(|s| s.iter().filter_map(scalar_string).collect())
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            if merged.depends_on.iter().any(|d| d == self.service) && !raw_depends.iter().any(|d| d == self.service) {
                let location = self.location(&route);
                self.findings.push(
                    Finding::new(
                        FindingId::ReferenceThroughAnchor,
                        Severity::Hazard,
                        format!(
                            "{name} depends on {} through a merged anchor (`<<: *…`); left as it is",
                            self.service
                        ),
                    )
                    .tip("remove the dependency from the anchored block by hand")
                    .at(location),
                );
            }
            if merged.command.iter().any(|c| points_at(c, &self.gateway.host)) {
                let location = self.location(&route.clone().key("command"));
                self.findings.push(
                    Finding::new(
                        FindingId::CommandPointsAtGateway,
                        Severity::Todo,
                        format!("the command of {name} names {}", self.gateway.host),
                    )
                    .tip("change the command by hand; pullover does not guess edits to it")
                    .at(location),
                );
            }
        }
    }

    /// Environment entries pointing at the gateway: removed when the service's
    /// code is in the stack and can do without them, kept and reported otherwise.
    fn environment(&mut self, name: &str, raw: &Value) {
        let route = services_route().key(name).key("environment");
        let entries: Vec<(String, Option<String>, Route)> = match raw.get("environment") {
            Some(Value::Sequence(items)) => items
                .iter()
                .filter_map(scalar_string)
                .map(|item| {
                    let (key, value) = match item.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (item.clone(), None),
                    };
                    (key, value, route.clone().item(ItemMatch::Scalar(item)))
                })
                .collect(),
            Some(Value::Mapping(map)) => env_map(map)
                .into_iter()
                .map(|(key, value)| {
                    let r = route.clone().key(key.clone());
                    (key, value, r)
                })
                .collect(),
            _ => Vec::new(),
        };
        let files = self.stack.service_files.iter().find(|f| f.service == name);
        let code: Vec<_> = files
            .map(|f| f.code.iter().map(|c| self.push_code.code_after(c)).collect())
            .unwrap_or_default();
        let original = files.map(|f| f.code.as_slice()).unwrap_or_default();
        let edited = self.push_code.edited();
        let push_removed = original.iter().any(|f| edited.contains(&f.path));
        for (key, value, entry_route) in entries {
            if !is_gateway_env(&key, value.as_deref(), self.gateway) {
                // A setting only the removed push logic read (`PUSH_INTERVAL_SECONDS`) goes with it.
                if push_removed
                    && !env_reads(original, &key).is_empty()
                    && env_reads(&code, &key).is_empty()
                    && self.remove(entry_route)
                {
                    self.findings.push(Finding::new(
                        FindingId::EnvVarRemoved,
                        Severity::Info,
                        format!("removed `{key}` from {name}: only its push logic read it"),
                    ));
                }
                continue;
            }
            // Only the name: a value may carry credentials (`http://user:pass@pushgateway`).
            let what = format!("`{key}`");
            if code.is_empty() {
                let location = self.location(&entry_route);
                let why = match files.and_then(|f| f.build_dir.as_ref()) {
                    Some(dir) => format!("no code of {name} under {dir} to check"),
                    None => format!("{name} runs an image whose code is not in the stack"),
                };
                self.findings.push(
                    super::push_setting_kept(name, &what, &why)
                        .tip(format!(
                            "remove it once {name} no longer pushes (or pin its code folder with `build:`)"
                        ))
                        .at(location),
                );
                continue;
            }
            let reads = env_reads(&code, &key);
            let required: Vec<_> = reads.iter().filter(|r| r.kind == ReadKind::Required).collect();
            if let Some(read) = required.first() {
                let location = self.location(&entry_route);
                let (line, _) = read.file.line_col(read.offset);
                self.findings.push(
                    Finding::new(
                        FindingId::EnvVarKept,
                        Severity::Hazard,
                        format!(
                            "kept {what} on {name}: {}:{line} reads it without a fallback",
                            read.file.path
                        ),
                    )
                    .tip("remove it together with the push logic, in the same deploy")
                    .at(location),
                );
                continue;
            }
            if !self.remove(entry_route) {
                continue;
            }
            if let Some(read) = reads.first() {
                self.findings.push(
                    Finding::new(
                        FindingId::EnvVarRemoved,
                        Severity::Info,
                        format!("removed {what} from {name}: its code reads it as optional, so the app still starts"),
                    )
                    .tip(if push_removed {
                        "the code still reads it for what is left (a log line, a setting): reword or remove that by hand"
                    } else {
                        "the push logic still runs (against its default address, if any) until it is removed (`--remove-push-code`)"
                    })
                    .at(Location::at(read.file, read.offset)),
                );
            }
        }
    }

    /// Named volumes of the gateway: removed when no other service mounts them.
    fn volumes(&mut self) {
        let Some(gateway) = self.compose.service(self.service) else {
            return;
        };
        let declared = self
            .compose
            .doc
            .value()
            .get("volumes")
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        let mut seen = Vec::new();
        for mount in gateway.volumes.iter().filter(|m| !m.bind) {
            let Some(volume) = mount.source.clone() else { continue };
            if !declared.contains_key(volume.as_str()) || seen.contains(&volume) {
                continue;
            }
            seen.push(volume.clone());
            let route = Route::root().key("volumes").key(volume.clone());
            let users: Vec<&str> = self
                .compose
                .services
                .iter()
                .filter(|s| s.name != self.service)
                .filter(|s| {
                    s.volumes
                        .iter()
                        .any(|m| !m.bind && m.source.as_deref() == Some(volume.as_str()))
                })
                .map(|s| s.name.as_str())
                .collect();
            if users.is_empty() {
                let location = self.location(&route);
                if self.remove(route) {
                    self.findings.push(
                        Finding::new(
                            FindingId::VolumeDataLeft,
                            Severity::Info,
                            format!("volume `{volume}` is no longer declared; Docker keeps its data"),
                        )
                        .tip(format!(
                            "delete it once you are sure: `docker volume rm <project>_{volume}` (`docker volume ls` shows the name)"
                        ))
                        .at(location),
                    );
                }
            } else {
                let location = self.location(&route);
                self.findings.push(
                    Finding::new(
                        FindingId::SharedVolumeKept,
                        Severity::Info,
                        format!(
                            "volume `{volume}` is kept: {} also mount{} it",
                            users.join(", "),
                            if users.len() == 1 { "s" } else { "" }
                        ),
                    )
                    .tip("it still holds the gateway's data; remove that mount and the volume by hand when no longer needed")
                    .at(location),
                );
            }
        }
    }

    fn profiles(&mut self) {
        let Some(gateway) = self.compose.service(self.service) else {
            return;
        };
        for profile in &gateway.profiles {
            let used = self
                .compose
                .services
                .iter()
                .any(|s| s.name != self.service && s.profiles.contains(profile));
            if !used {
                let location = self.location(&services_route().key(self.service).key("profiles"));
                self.findings.push(
                    Finding::new(
                        FindingId::ProfileUnused,
                        Severity::Info,
                        format!(
                            "profile `{profile}` enabled only {}; no service uses it now",
                            self.service
                        ),
                    )
                    .tip(format!(
                        "drop `--profile {profile}` from scripts and docs that start the stack"
                    ))
                    .at(location),
                );
            }
        }
    }

    /// `x-` blocks whose anchors are used only by what is being removed.
    fn extension_blocks(&mut self) {
        let doc = &self.compose.doc;
        let marks = doc.anchor_marks();
        // For every alias, where the anchor it refers to is defined.
        let uses: Vec<(usize, usize)> = marks
            .iter()
            .enumerate()
            .filter_map(|(i, mark)| match mark {
                AnchorMark::Alias { name, offset } => marks[..i]
                    .iter()
                    .rev()
                    .find(|m| matches!(m, AnchorMark::Anchor { .. }) && m.name() == name)
                    .map(|anchor| (*offset, anchor.offset())),
                AnchorMark::Anchor { .. } => None,
            })
            .collect();
        let blocks: Vec<(String, Range<usize>)> = doc
            .root()
            .map(|root| {
                root.entries()
                    .into_iter()
                    .filter(|e| e.key.starts_with("x-"))
                    .map(|e| (e.key.clone(), e.range()))
                    .collect()
            })
            .unwrap_or_default();
        let mut chosen: Vec<String> = Vec::new();
        loop {
            let next = blocks.iter().find(|(key, range)| {
                if chosen.contains(key) {
                    return false;
                }
                let block_uses: Vec<usize> = uses
                    .iter()
                    .filter(|(_, anchor)| range.contains(anchor))
                    .map(|(alias, _)| *alias)
                    .collect();
                !block_uses.is_empty()
                    && block_uses
                        .iter()
                        .all(|alias| self.removed.iter().any(|r| r.contains(alias)))
            });
            let Some((key, _)) = next.cloned() else { break };
            chosen.push(key.clone());
            self.remove(Route::root().key(key));
        }
    }
}

/// `KEY: value` pairs of a map-form environment (`KEY:` alone has no value).
fn env_map(map: &Mapping) -> Vec<(String, Option<String>)> {
    map.iter()
        .filter_map(|(k, v)| Some((scalar_string(k)?, scalar_string(v))))
        .collect()
}
