#pragma once
// Reads a JWT header or claims set (a JSON object) without building a tree: Boost.JSON's
// validating SAX parser calls this handler, which keeps the top-level string members (and the
// strings of a top-level array, for `aud`) in one buffer, the top-level numbers, and refuses a
// member that appears twice. Nested objects and arrays are checked for form and skipped.

#include <boost/json/basic_parser_impl.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paaskit::auth::detail {

class flat_object {
public:
    static constexpr std::size_t max_members = 24;

    struct member {
        std::uint32_t name_at = 0, name_size = 0, value_at = 0, value_size = 0;
        enum class kind : std::uint8_t { string, number, array_string, other } type = kind::other;
        double number = 0;
    };

    /// Parses `text`; false when it is not one JSON object, has more than `max_members` members,
    /// names a member twice or nests deeper than 16.
    bool parse(std::string_view text)
    {
        storage_.clear();
        storage_.reserve(text.size());
        count_ = 0;
        top_is_object_ = false;
        boost::json::parse_options options;
        options.max_depth = 16;
        boost::json::basic_parser<handler> p(options, *this);
        boost::system::error_code ec;
        const auto used = p.write_some(false, text.data(), text.size(), ec);
        return !ec && used == text.size() && p.done() && top_is_object_;
    }

    /// The string member `name` (the first string of an array member), or nullopt.
    std::optional<std::string_view> string(std::string_view name) const
    {
        for (std::size_t i = 0; i < count_; ++i)
            if (name_of(members_[i]) == name && members_[i].type == member::kind::string)
                return value_of(members_[i]);
        return std::nullopt;
    }
    /// Whether a member called `name` exists, of any kind.
    bool contains(std::string_view name) const
    {
        for (std::size_t i = 0; i < count_; ++i)
            if (name_of(members_[i]) == name)
                return true;
        return false;
    }
    /// The member's kind, when present.
    std::optional<member::kind> kind_of(std::string_view name) const
    {
        for (std::size_t i = 0; i < count_; ++i)
            if (name_of(members_[i]) == name)
                return members_[i].type == member::kind::array_string ? member::kind::other : members_[i].type;
        return std::nullopt;
    }
    /// The number member `name`, or nullopt (absent or not a number).
    std::optional<double> number(std::string_view name) const
    {
        for (std::size_t i = 0; i < count_; ++i)
            if (name_of(members_[i]) == name && members_[i].type == member::kind::number)
                return members_[i].number;
        return std::nullopt;
    }
    /// Whether the member `name` is the string `value` or an array holding that string.
    bool names(std::string_view name, std::string_view value) const
    {
        for (std::size_t i = 0; i < count_; ++i)
            if (name_of(members_[i]) == name && (members_[i].type == member::kind::string || members_[i].type == member::kind::array_string) &&
                value_of(members_[i]) == value)
                return true;
        return false;
    }

    /// Every top-level string member, for callers that want them all.
    template <class F>
    void for_each_string(F f) const
    {
        for (std::size_t i = 0; i < count_; ++i)
            if (members_[i].type == member::kind::string)
                f(name_of(members_[i]), value_of(members_[i]));
    }

private:
    std::string_view name_of(const member& m) const { return std::string_view(storage_).substr(m.name_at, m.name_size); }
    std::string_view value_of(const member& m) const { return std::string_view(storage_).substr(m.value_at, m.value_size); }

    // The SAX callbacks, on the object being filled.
    struct handler {
        static constexpr std::size_t max_array_size = 64;
        static constexpr std::size_t max_object_size = 64;
        static constexpr std::size_t max_string_size = 8 * 1024;
        static constexpr std::size_t max_key_size = 256;
        using ec_t = boost::system::error_code;

        flat_object& out;
        int depth = 0;
        bool in_top_array = false;
        std::uint32_t key_at = 0, key_size = 0;
        std::uint32_t piece_at = 0; // where the string or key being read started in storage

        explicit handler(flat_object& o) : out(o) {}

        bool fail(ec_t& ec)
        {
            ec = boost::json::error::syntax;
            return false;
        }
        bool add(member::kind type, std::uint32_t value_at, std::uint32_t value_size, double number, ec_t& ec)
        {
            if (out.count_ == max_members)
                return fail(ec);
            const std::string_view name = std::string_view(out.storage_).substr(key_at, key_size);
            if (type != member::kind::array_string || out.count_ == 0 || out.name_of(out.members_[out.count_ - 1]) != name)
                for (std::size_t i = 0; i < out.count_; ++i)
                    if (out.name_of(out.members_[i]) == name)
                        return fail(ec); // a member named twice
            out.members_[out.count_++] = {key_at, key_size, value_at, value_size, type, number};
            return true;
        }
        // A scalar at the top level is a member; in the top array, an element; deeper, ignored.
        bool scalar(member::kind type, double number, ec_t& ec)
        {
            if (depth == 1)
                return add(type, 0, 0, number, ec);
            return true;
        }

        bool on_document_begin(ec_t&) { return true; }
        bool on_document_end(ec_t&) { return true; }
        bool on_object_begin(ec_t& ec)
        {
            if (depth == 0)
                out.top_is_object_ = true;
            else if (depth == 1 && !add(member::kind::other, 0, 0, 0, ec))
                return false;
            ++depth;
            return true;
        }
        bool on_object_end(std::size_t, ec_t&)
        {
            --depth;
            return true;
        }
        bool on_array_begin(ec_t& ec)
        {
            if (depth == 0)
                return fail(ec);
            if (depth == 1) {
                in_top_array = true;
                if (!add(member::kind::other, 0, 0, 0, ec))
                    return false;
            }
            ++depth;
            return true;
        }
        bool on_array_end(std::size_t, ec_t&)
        {
            if (--depth == 1)
                in_top_array = false;
            return true;
        }
        bool on_key_part(boost::json::string_view s, std::size_t n, ec_t&)
        {
            if (n == s.size())
                piece_at = static_cast<std::uint32_t>(out.storage_.size());
            if (depth == 1)
                out.storage_.append(s.data(), s.size());
            return true;
        }
        bool on_key(boost::json::string_view s, std::size_t n, ec_t&)
        {
            if (n == s.size())
                piece_at = static_cast<std::uint32_t>(out.storage_.size());
            if (depth == 1) {
                out.storage_.append(s.data(), s.size());
                key_at = piece_at;
                key_size = static_cast<std::uint32_t>(out.storage_.size()) - piece_at;
            }
            return true;
        }
        bool on_string_part(boost::json::string_view s, std::size_t n, ec_t&)
        {
            if (n == s.size())
                piece_at = static_cast<std::uint32_t>(out.storage_.size());
            if (depth == 1 || (depth == 2 && in_top_array))
                out.storage_.append(s.data(), s.size());
            return true;
        }
        bool on_string(boost::json::string_view s, std::size_t n, ec_t& ec)
        {
            if (n == s.size())
                piece_at = static_cast<std::uint32_t>(out.storage_.size());
            if (depth == 1) {
                out.storage_.append(s.data(), s.size());
                return add(member::kind::string, piece_at, static_cast<std::uint32_t>(out.storage_.size()) - piece_at, 0, ec);
            }
            if (depth == 2 && in_top_array) {
                out.storage_.append(s.data(), s.size());
                return add(member::kind::array_string, piece_at, static_cast<std::uint32_t>(out.storage_.size()) - piece_at, 0, ec);
            }
            return true;
        }
        bool on_number_part(boost::json::string_view, ec_t&) { return true; }
        bool on_int64(std::int64_t i, boost::json::string_view, ec_t& ec) { return scalar(member::kind::number, static_cast<double>(i), ec); }
        bool on_uint64(std::uint64_t u, boost::json::string_view, ec_t& ec) { return scalar(member::kind::number, static_cast<double>(u), ec); }
        bool on_double(double d, boost::json::string_view, ec_t& ec) { return scalar(member::kind::number, d, ec); }
        bool on_bool(bool, ec_t& ec) { return scalar(member::kind::other, 0, ec); }
        bool on_null(ec_t& ec) { return scalar(member::kind::other, 0, ec); }
        bool on_comment_part(boost::json::string_view, ec_t& ec) { return fail(ec); }
        bool on_comment(boost::json::string_view, ec_t& ec) { return fail(ec); }
    };

    std::string storage_;
    std::array<member, max_members> members_{};
    std::size_t count_ = 0;
    bool top_is_object_ = false;
};

} // namespace paaskit::auth::detail
