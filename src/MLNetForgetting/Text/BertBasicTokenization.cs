using System.Globalization;
using System.Text;

namespace MLNetForgetting.Text;

/// <summary>
/// BERT's basic tokenization (Hugging Face's BasicTokenizer) before WordPiece: remove control and format
/// characters, put spaces around CJK ideographs, lower-case and strip accents when asked, and split every
/// punctuation character off as its own word. Punctuation is BERT's: every ASCII character that is not a
/// letter, digit or space ($, `, ^, +, &lt;, =, &gt;, |, ~ included) and every Unicode P* character.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' BertTokenizer (2.0.1 and 3.0.0) applies its own basic tokenization, which drops
/// symbol characters ("$10" → "10", "`" and "+" vanish) and splits words at a soft hyphen instead of removing
/// it; on real sentences that changed the ids of about one in twenty. So <see cref="SubwordTokenizer"/>
/// runs this step itself and hands Microsoft.ML.Tokenizers whitespace-separated words for WordPiece only.
/// </remarks>
internal static class BertBasicTokenization
{
    /// <summary>The words of <paramref name="text"/> joined by single spaces.</summary>
    public static string Apply(string text, bool lowerCase, bool stripAccents)
    {
        var cleaned = new StringBuilder(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            int cp = CodePoint(text, i, out int width);
            string ch = text.Substring(i, width);
            i += width - 1;
            if (cp == 0 || cp == 0xFFFD || IsControl(cp, ch)) continue;
            if (IsWhitespace(cp, ch)) cleaned.Append(' ');
            else if (IsCjk(cp)) cleaned.Append(' ').Append(ch).Append(' ');
            else cleaned.Append(ch);
        }

        var words = new StringBuilder(cleaned.Length + 16);
        foreach (string raw in cleaned.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string word = raw;
            if (lowerCase) word = word.ToLowerInvariant();
            if (stripAccents) word = StripAccents(word);
            for (int i = 0; i < word.Length; i++)
            {
                int cp = CodePoint(word, i, out int width);
                string ch = word.Substring(i, width);
                i += width - 1;
                if (IsPunctuation(cp, ch)) words.Append(' ').Append(ch).Append(' ');
                else words.Append(ch);
            }
            words.Append(' ');
        }
        return string.Join(' ', words.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    private static int CodePoint(string s, int index, out int width)
    {
        if (char.IsHighSurrogate(s[index]) && index + 1 < s.Length && char.IsLowSurrogate(s[index + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(s[index], s[index + 1]);
        }
        width = 1;
        return char.IsSurrogate(s[index]) ? 0xFFFD : s[index];
    }

    private static string StripAccents(string word)
    {
        string decomposed = word.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        foreach (char c in decomposed)
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) sb.Append(c);
        return sb.ToString();
    }

    private static UnicodeCategory Category(string ch) => CharUnicodeInfo.GetUnicodeCategory(ch, 0);

    // HF: \t, \n, \r count as whitespace, not control; other C* categories (Cc, Cf, Co, Cs, Cn) are removed.
    private static bool IsControl(int cp, string ch) => cp is not ('\t' or '\n' or '\r') && Category(ch) is UnicodeCategory.Control
        or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned;

    private static bool IsWhitespace(int cp, string ch) => cp is ' ' or '\t' or '\n' or '\r' || Category(ch) == UnicodeCategory.SpaceSeparator;

    private static bool IsPunctuation(int cp, string ch) =>
        cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126)
        || Category(ch) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;

    // The CJK Unified Ideographs blocks BERT spaces out (not Hangul, Hiragana or Katakana).
    private static bool IsCjk(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
