#include "exporter/routes.h"

#include "exporter/views.h"

namespace cpha {
namespace {

HttpResponse JsonResponse(const nlohmann::json& body) {
  HttpResponse response;
  response.body = body.dump();
  return response;
}

}  // namespace

std::vector<Route> HealthRoutes(HaState& state) {
  auto snapshot = [&state] { return state.Refresh(SteadyClock::now()); };

  return {
      {"GET", "/v1/health/read-ready",
       [=](const HttpRequest&) { return ReadReadyView(snapshot()); }},
      {"GET", "/v1/health/write-ready",
       [=](const HttpRequest&) { return WriteReadyView(snapshot()); }},
      {"GET", "/v1/health/leader",
       [=](const HttpRequest&) {
         return JsonResponse(LeaderJson(snapshot()));
       }},
      {"GET", "/v1/health/quorum",
       [=, &state](const HttpRequest&) {
         return JsonResponse(QuorumJson(snapshot(), state.metrics()));
       }},
      {"GET", "/v1/health/audit",
       [=](const HttpRequest&) { return JsonResponse(AuditJson(snapshot())); }},
      {"GET", "/v1/health/live",
       [](const HttpRequest&) {
         return JsonResponse({{"live", true}});
       }},
      {"GET", "/metrics",
       [=, &state](const HttpRequest&) {
         snapshot();  // brings the gauges up to this instant
         HttpResponse response;
         response.content_type = "text/plain; version=0.0.4; charset=utf-8";
         response.body = state.metrics().Serialize();
         return response;
       }},
      {"GET", "/",
       [=](const HttpRequest&) {
         HttpResponse response;
         response.content_type = "text/html; charset=utf-8";
         response.body = LandingPage(snapshot());
         return response;
       }},
  };
}

}  // namespace cpha
