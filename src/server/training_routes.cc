// /training/sessions: training sessions over HTTP (issue 7), on runtime::TrainingService.
#include "runtime/training_service.h"
#include "server/api_server.h"

namespace mlos::server {

runtime::Route ApiServer::Training(const http::HttpRequest& req, std::string_view rest,
                                   http::HttpResponse* resp) {
  (void)req;
  (void)rest;
  if (training_ == nullptr) {
    SetError(resp, 503, "training is not available in this daemon");
    return runtime::Route::kTrainingSessions;
  }
  SetError(resp, 501, "training routes are not implemented yet");
  return runtime::Route::kTrainingSessions;
}

}  // namespace mlos::server
