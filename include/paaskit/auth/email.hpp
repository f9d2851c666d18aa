#pragma once
/// \file
/// E-mail addresses as account identities: Unicode-normalised so that one address has one
/// spelling, and refused when they carry invisible or direction-changing characters or mix
/// scripts the way look-alike (confusable) addresses do. Target `paaskit::auth_email` (ICU).

#include <paaskit/auth/error.hpp>
#include <paaskit/core/result.hpp>
#include <paaskit/core/utf8.hpp>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paaskit::auth {

/// One e-mail address in the three forms an account needs.
struct email_identity {
    /// NFKC: what the user typed, full-width and other compatibility forms made plain (so
    /// "ａｌｉｃｅ@ｔ.ｔｅｓｔ" is "alice@t.test"), case kept. What mail is sent to and shown.
    std::string address;
    /// NFKC_Casefold of the address: "Ünï@T.test" and "ünï@t.test" are one. Unique among accounts;
    /// what sign-in and the per-account attempt limit compare.
    std::string canonical;
    /// The UTS #39 skeleton of `canonical`: look-alike addresses ("pаypal" with a Cyrillic а)
    /// share it. Compare it only for addresses with non-ASCII characters: among ASCII addresses
    /// it would also join "bob1" and "bobl", which are different people.
    std::string skeleton;

    /// Whether the canonical form is all ASCII (the common case, where skeletons are not compared).
    bool ascii() const noexcept
    {
        return std::all_of(canonical.begin(), canonical.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    }
};

namespace detail {

struct spoof_checker_deleter {
    void operator()(USpoofChecker* checker) const noexcept { uspoof_close(checker); }
};

inline core::result<std::u16string> to_utf16(std::string_view text)
{
    std::u16string out(text.size(), u'\0'); // UTF-16 never needs more units than UTF-8 has bytes
    int32_t length = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strFromUTF8(reinterpret_cast<UChar*>(out.data()), static_cast<int32_t>(out.size()), &length, text.data(),
                  static_cast<int32_t>(text.size()), &status);
    if (U_FAILURE(status))
        return core::error(core::errc::invalid_argument, "\"email\": not UTF-8 text");
    out.resize(static_cast<std::size_t>(length));
    return out;
}

inline std::string to_utf8(std::u16string_view text)
{
    std::string out(text.size() * 3, '\0');
    int32_t length = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &length, reinterpret_cast<const UChar*>(text.data()),
                static_cast<int32_t>(text.size()), &status);
    out.resize(U_SUCCESS(status) ? static_cast<std::size_t>(length) : 0);
    return out;
}

inline core::result<std::u16string> normalize(const UNormalizer2* form, std::u16string_view text)
{
    std::u16string out(text.size() * 4 + 16, u'\0');
    UErrorCode status = U_ZERO_ERROR;
    const auto length = unorm2_normalize(form, reinterpret_cast<const UChar*>(text.data()), static_cast<int32_t>(text.size()),
                                         reinterpret_cast<UChar*>(out.data()), static_cast<int32_t>(out.size()), &status);
    if (U_FAILURE(status))
        return core::error(core::errc::invalid_argument, std::string("\"email\": cannot normalise: ") + u_errorName(status));
    out.resize(static_cast<std::size_t>(length));
    return out;
}

/// Characters an address may not hold at all: controls, invisible (default-ignorable and format)
/// characters such as zero-width spaces, bidirectional controls, white space, unassigned and
/// private-use code points, and the separators of address lists.
inline bool forbidden_in_email(UChar32 c) noexcept
{
    if (c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '(' || c == ')' || c == '[' || c == ']' || c == '\\')
        return true;
    const auto type = static_cast<UCharCategory>(u_charType(c));
    return type == U_CONTROL_CHAR || type == U_FORMAT_CHAR || type == U_UNASSIGNED || type == U_PRIVATE_USE_CHAR ||
           type == U_SURROGATE || u_isUWhiteSpace(c) || u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
           u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL);
}

/// Whether well-formed UTF-8 `text` holds a character `forbidden_in_email`.
inline bool has_forbidden_character(std::string_view text) noexcept
{
    while (!text.empty()) {
        const auto cp = core::decode_utf8(text);
        if (!cp || forbidden_in_email(static_cast<UChar32>(cp->value)))
            return true;
        text.remove_prefix(cp->length);
    }
    return false;
}

} // namespace detail

/// Normalises and checks an e-mail address. Refuses (`core::errc::invalid_argument`, the detail
/// naming the rule): text that is not UTF-8; any character `forbidden_in_email`; a local part
/// or a domain label that mixes scripts beyond what UTS #39's moderately restrictive level
/// allows (Latin with Cyrillic, say) or mixes digits of different systems; and, after
/// normalisation, anything but one '@' with 1..64 bytes before it, a domain without empty
/// labels, and 3..254 bytes in all. Surrounding ASCII white space is trimmed first.
/// Thread-safe; complexity O(n) for an address of n bytes.
inline core::result<email_identity> normalize_email(std::string_view text)
{
    const auto bad = [](std::string why) { return core::error(core::errc::invalid_argument, "\"email\": " + std::move(why)); };
    constexpr const char* forbidden_rule =
        "an e-mail address may not contain spaces, control, invisible or direction-changing characters, or <>,;\"()[]\\";
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' || text.front() == '\n'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
        text.remove_suffix(1);
    if (text.size() > 1024)
        return bad("an e-mail address has 3 to 254 characters");
    if (!core::is_valid_utf8(text))
        return bad("not UTF-8 text");
    if (detail::has_forbidden_character(text))
        return bad(forbidden_rule);
    auto utf16 = detail::to_utf16(text);
    if (!utf16)
        return utf16.error();

    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* nfkc = unorm2_getNFKCInstance(&status);
    const UNormalizer2* folded = unorm2_getNFKCCasefoldInstance(&status);
    if (U_FAILURE(status))
        return bad(std::string("Unicode data unavailable: ") + u_errorName(status));
    auto address16 = detail::normalize(nfkc, *utf16);
    if (!address16)
        return address16.error();
    auto canonical16 = detail::normalize(folded, *utf16);
    if (!canonical16)
        return canonical16.error();

    email_identity id{detail::to_utf8(*address16), detail::to_utf8(*canonical16), {}};
    const std::string_view canonical = id.canonical;
    if (canonical.size() < 3 || canonical.size() > 254)
        return bad("an e-mail address has 3 to 254 characters");
    const auto at = canonical.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == canonical.size() || canonical.find('@', at + 1) != std::string_view::npos)
        return bad("an e-mail address has one '@' with text on both sides");
    if (at > 64)
        return bad("the part before '@' has at most 64 characters");
    const auto domain = canonical.substr(at + 1);
    if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
        return bad("the domain is not a host name");
    // Normalisation may not bring back what was refused (a compatibility form of a separator).
    if (detail::has_forbidden_character(canonical))
        return bad(forbidden_rule);

    std::unique_ptr<USpoofChecker, detail::spoof_checker_deleter> checker(uspoof_open(&status));
    if (U_FAILURE(status))
        return bad(std::string("Unicode data unavailable: ") + u_errorName(status));
    uspoof_setChecks(checker.get(), USPOOF_RESTRICTION_LEVEL | USPOOF_INVISIBLE | USPOOF_MIXED_NUMBERS, &status);
    uspoof_setRestrictionLevel(checker.get(), USPOOF_MODERATELY_RESTRICTIVE);
    // The local part and each domain label on their own: an all-Cyrillic local part at a Latin
    // domain is one person's real address; Latin and Cyrillic inside one part is a disguise.
    std::vector<std::string_view> parts{canonical.substr(0, at)};
    for (std::string_view rest = domain; !rest.empty();) {
        const auto dot = rest.find('.');
        parts.push_back(rest.substr(0, dot));
        rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    for (const auto part : parts) {
        status = U_ZERO_ERROR;
        const auto verdict = uspoof_checkUTF8(checker.get(), part.data(), static_cast<int32_t>(part.size()), nullptr, &status);
        if (U_FAILURE(status) || verdict != 0)
            return bad("\"" + std::string(part) + "\" mixes scripts or digit systems the way look-alike addresses do");
    }
    status = U_ZERO_ERROR;
    std::string skeleton(canonical.size() * 4 + 16, '\0');
    const auto length = uspoof_getSkeletonUTF8(checker.get(), 0, canonical.data(), static_cast<int32_t>(canonical.size()), skeleton.data(),
                                               static_cast<int32_t>(skeleton.size()), &status);
    if (U_FAILURE(status))
        return bad(std::string("cannot compute the skeleton: ") + u_errorName(status));
    skeleton.resize(static_cast<std::size_t>(length));
    id.skeleton = std::move(skeleton);
    return id;
}

} // namespace paaskit::auth
