// The planner's answer as Markdown (a table, the reasoning, a Mermaid diagram per size) or JSON.
// Pure; thread-compatible.
#pragma once

#include "plan/model.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace confab::plan {

std::string markdown(const std::vector<topology>& plans, const requirements& r, const figures& f);
std::string mermaid(const topology& t, const requirements& r, const figures& f);
boost::json::value to_json(const std::vector<topology>& plans, const figures& f);

// The validation: the prediction for the colocated deployment, and the measured best rate if the
// results hold one (measured <= 0: not measured), with the difference.
std::string markdown(const colocated_prediction& p, double measured, const std::string& measured_source);

}  // namespace confab::plan
