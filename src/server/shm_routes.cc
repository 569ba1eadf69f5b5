// /v2/systemsharedmemory: Triton's system-shared-memory extension over HTTP (issue 6).
// Off by default, as in Triton: without --http-shm every route answers 400 and says how to
// turn it on.
#include "server/api_server.h"

namespace mlos::server {

runtime::Route ApiServer::SystemSharedMemory(const http::HttpRequest& req, std::string_view rest,
                                             http::HttpResponse* resp) {
  (void)req;
  (void)rest;
  if (!info_.http_shm) {
    SetError(resp, 400,
             "system shared memory is disabled; start mlos_core with --http-shm (config "
             "http_shm: true) to enable it");
    return runtime::Route::kV2SharedMemory;
  }
  SetError(resp, 501, "system shared memory over HTTP is not implemented yet");
  return runtime::Route::kV2SharedMemory;
}

}  // namespace mlos::server
