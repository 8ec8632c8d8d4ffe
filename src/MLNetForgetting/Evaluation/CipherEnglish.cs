using System.Text;

namespace MLNetForgetting.Evaluation;

/// <summary>
/// "Cipher English", a positive control for language adaptation on real text: a fixed bijection that
/// swaps the 26 lower-case and 26 upper-case ASCII letters and the 10 ASCII digits with the first 62
/// letters of the Cherokee syllabary (U+13A0–U+13DD), a script absent from the English pretraining
/// text. Ciphered English keeps its words, word order and statistics, so a model can only read it after
/// learning a new vocabulary and new token embeddings, and nothing else: its ceiling is the English
/// accuracy, without the data shortage of a real low-resource language.
/// </summary>
/// <remarks>
/// The mapping is an involution (a set of swaps): <c>Apply(Apply(s)) == s</c> for every string, and
/// ciphering text that already holds those Cherokee letters maps them to Latin. Every other character
/// (punctuation, spaces, accented or non-Latin letters) is left as it is. The order of the mapping:
/// 'a'..'z' ↔ U+13A0..U+13B9, 'A'..'Z' ↔ U+13BA..U+13D3, '0'..'9' ↔ U+13D4..U+13DD.
/// </remarks>
internal static class CipherEnglish
{
    /// <summary>The first code point of the cipher alphabet (CHEROKEE LETTER A).</summary>
    public const char First = '\u13A0';
    private const int Count = 62;

    /// <summary>Ciphers (or, applied again, deciphers) <paramref name="text"/>; null stays null.</summary>
    public static string? Apply(string? text)
    {
        if (text is null) return null;
        var sb = new StringBuilder(text.Length);
        foreach (char c in text) sb.Append(Map(c));
        return sb.ToString();
    }

    /// <summary>The image of one character.</summary>
    public static char Map(char c) => c switch
    {
        >= 'a' and <= 'z' => (char)(First + (c - 'a')),
        >= 'A' and <= 'Z' => (char)(First + 26 + (c - 'A')),
        >= '0' and <= '9' => (char)(First + 52 + (c - '0')),
        _ when c >= First && c < First + Count => Inverse(c - First),
        _ => c,
    };

    private static char Inverse(int i) => i switch
    {
        < 26 => (char)('a' + i),
        < 52 => (char)('A' + i - 26),
        _ => (char)('0' + i - 52),
    };
}
