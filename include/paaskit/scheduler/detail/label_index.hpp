#pragma once
/// \file
/// Node labels as columns: per label key, the id of each node's value (0 when the node lacks the
/// key). A requirement then compares small integers instead of strings.

#include <paaskit/core/string_hash.hpp>

#include <charconv>
#include <map>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace paaskit::scheduler::detail {

class label_index {
public:
    static constexpr std::uint32_t absent = 0;
    static constexpr std::uint32_t no_key = ~std::uint32_t{0};

    /// The key's column number, or `no_key` when no node ever had the key.
    std::uint32_t key(std::string_view name) const
    {
        const auto found = keys_.find(name);
        return found != keys_.end() ? found->second : no_key;
    }

    /// The id of `value` under `key`, or `absent` when no node has that value.
    std::uint32_t value(std::uint32_t key, std::string_view text) const
    {
        const auto& values = columns_[key].values;
        const auto found = values.find(text);
        return found != values.end() ? found->second : absent;
    }

    /// The label value as an integer (for Gt and Lt), when it is one.
    std::optional<std::int64_t> numeric(std::uint32_t key, std::uint32_t value) const { return columns_[key].numeric[value]; }

    const std::vector<std::uint32_t>& column(std::uint32_t key) const { return columns_[key].of_node; }

    std::size_t keys() const noexcept { return columns_.size(); }

    /// A new node with no labels (every column gets an `absent` entry).
    void add_node()
    {
        ++nodes_;
        for (auto& c : columns_)
            c.of_node.push_back(absent);
    }

    /// Sets a node's labels, replacing the ones it had.
    void set_labels(std::uint32_t node, const std::map<std::string, std::string>& labels)
    {
        for (auto& c : columns_)
            c.of_node[node] = absent;
        for (const auto& [name, text] : labels) {
            auto [at, added] = keys_.try_emplace(name, static_cast<std::uint32_t>(columns_.size()));
            if (added) {
                columns_.emplace_back();
                columns_.back().of_node.assign(nodes_, absent);
                columns_.back().numeric.emplace_back(); // id 0: absent
            }
            column_data& c = columns_[at->second];
            auto [value, new_value] = c.values.try_emplace(text, static_cast<std::uint32_t>(c.numeric.size()));
            if (new_value) {
                std::int64_t number = 0;
                const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
                c.numeric.push_back(ec == std::errc{} && end == text.data() + text.size() && !text.empty()
                                        ? std::optional<std::int64_t>(number)
                                        : std::nullopt);
            }
            c.of_node[node] = value->second;
        }
    }

    /// Moves node `from`'s entries to `to` and drops the last node (swap-remove).
    void move_node(std::uint32_t from, std::uint32_t to)
    {
        for (auto& c : columns_) {
            c.of_node[to] = c.of_node[from];
            c.of_node.pop_back();
        }
        --nodes_;
    }

private:
    struct column_data {
        std::vector<std::uint32_t> of_node;
        std::unordered_map<std::string, std::uint32_t, core::string_hash, std::equal_to<>> values;
        std::vector<std::optional<std::int64_t>> numeric;
    };

    std::unordered_map<std::string, std::uint32_t, core::string_hash, std::equal_to<>> keys_;
    std::vector<column_data> columns_;
    std::size_t nodes_ = 0;
};

} // namespace paaskit::scheduler::detail
