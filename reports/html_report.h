// HTML reports: one self-contained page (inline CSS and SVG, nothing fetched) per adapter or audit.
#pragma once

#include <string>

#include "reports/report_model.h"

namespace graft::reports {

// Identity, verification, lineage (inline SVG), training loss curve (inline SVG), one forest plot
// per evaluation (<svg class="forest-plot">) with its per-slice table, decisions, approvals, and
// log entries with their inclusion proofs. Every string is escaped; the page is also well-formed
// XML, with a print stylesheet.
std::string RenderAdapterHtml(const AdapterReportData& report);
// The audit period, the checkpoint it was verified against, and a table per kind of event.
std::string RenderAuditHtml(const AuditReportData& audit);

}  // namespace graft::reports
