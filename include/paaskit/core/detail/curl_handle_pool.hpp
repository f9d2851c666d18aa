#pragma once
/// \file
/// libcurl easy handles kept for reuse, so that each keeps its connections (and TLS sessions) for
/// the next request; shared by the components that speak HTTP or SMTP through libcurl (k8s,
/// notify, billing). Core itself does not link libcurl: only those components include this.

#include <curl/curl.h>

#include <mutex>
#include <vector>

namespace paaskit::core::detail {

class curl_handle_pool {
public:
    curl_handle_pool()
    {
        static std::once_flag curl_ready; // libcurl's process-wide initialisation, once
        std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    }
    curl_handle_pool(const curl_handle_pool&) = delete;
    curl_handle_pool& operator=(const curl_handle_pool&) = delete;
    ~curl_handle_pool()
    {
        for (CURL* handle : idle_)
            curl_easy_cleanup(handle);
    }

    /// An idle handle, or a new one (nullptr only when libcurl cannot make one).
    CURL* take()
    {
        {
            const std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                CURL* handle = idle_.back();
                idle_.pop_back();
                return handle;
            }
        }
        return curl_easy_init();
    }

    /// Keeps `handle` for the next request: its options go, its connections stay.
    void give_back(CURL* handle)
    {
        curl_easy_reset(handle);
        const std::lock_guard lock(mutex_);
        idle_.push_back(handle);
    }

    /// Drops `handle` and its connections (after a failed exchange, whose connection may be broken).
    static void discard(CURL* handle) { curl_easy_cleanup(handle); }

private:
    std::mutex mutex_;
    std::vector<CURL*> idle_;
};

} // namespace paaskit::core::detail
