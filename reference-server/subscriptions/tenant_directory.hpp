#pragma once
// Who owns each namespace in the cluster, held in memory for the pods views: read from the
// database once, and again only after a subscription was created, ended, renamed or changed
// state on any replica (a trigger NOTIFYs `paaskit_subscriptions` on those statements). Between a
// change's commit and its notification's arrival (milliseconds) a read may still see the
// directory as it was; decisions that must not (a restart's state check) read the database.

#include "subscriptions/store.hpp"

#include <paaskit/pg/listener.hpp>
#include <paaskit/pg/pool.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace paaskit::server {

class tenant_directory {
public:
    using tenant = subscription_store::tenant;
    /// One reading of the live subscriptions' namespaces; immutable once built.
    class snapshot {
    public:
        explicit snapshot(std::vector<tenant> tenants);
        snapshot(const snapshot&) = delete;
        snapshot& operator=(const snapshot&) = delete;
        /// Every live subscription with objects in the cluster, by namespace.
        const std::vector<tenant>& all() const noexcept { return tenants_; }
        /// The subscription owning namespace `ns`, or null.
        const tenant* owner_of(std::string_view ns) const noexcept;
        /// Customer `user`'s subscriptions, by namespace.
        const std::vector<const tenant*>& of(const core::uuid& user) const noexcept;

    private:
        std::vector<tenant> tenants_;
        std::unordered_map<std::string_view, const tenant*> by_namespace_;
        std::unordered_map<core::uuid, std::vector<const tenant*>> by_user_;
    };
    using snapshot_ptr = std::shared_ptr<const snapshot>;

    static constexpr std::string_view changes_channel = "paaskit_subscriptions";

    explicit tenant_directory(std::shared_ptr<pg::pool> pool) : pool_(std::move(pool)) {}
    tenant_directory(const tenant_directory&) = delete;
    tenant_directory& operator=(const tenant_directory&) = delete;
    ~tenant_directory() { stop(); }

    /// Subscribes to the changes on a session of its own. Until it is subscribed (and while it
    /// reconnects) nothing is remembered: every read asks the database.
    void listen(boost::asio::any_io_executor executor, std::string conninfo);
    void stop() noexcept;

    /// The directory as of the last change heard of; a read of the database when that is newer
    /// than what is held (one reader reloads, the others keep the held one meanwhile).
    boost::asio::awaitable<core::result<snapshot_ptr>> current();

    /// Something changed: the next read loads again.
    void changed() noexcept { ++changes_; }

private:
    boost::asio::awaitable<core::result<std::vector<tenant>>> load();
    bool remembering() const noexcept { return listener_ && listener_->listening(); }

    std::shared_ptr<pg::pool> pool_;
    std::shared_ptr<pg::listener> listener_;
    std::atomic<std::uint64_t> changes_{0};
    std::mutex mutex_;
    snapshot_ptr held_;
    std::uint64_t held_changes_ = 0;
    bool loading_ = false;
};

} // namespace paaskit::server
