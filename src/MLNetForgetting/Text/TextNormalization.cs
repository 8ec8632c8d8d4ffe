using System.Text;

namespace MLNetForgetting.Text;

/// <summary>
/// The text normalisation applied before every encoding (version "nfc-ctrl-v1"):
/// <list type="number">
/// <item>unpaired UTF-16 surrogates and Unicode noncharacters (U+FDD0..U+FDEF, U+xxFFFE/U+xxFFFF) become U+FFFD;</item>
/// <item>"\r\n" and a lone "\r" become "\n";</item>
/// <item>control characters (category Cc) other than "\t" and "\n" are removed;</item>
/// <item>the result is in Unicode NFC.</item>
/// </list>
/// Nothing else changes: case, accents, zero-width joiners and repeated spaces are kept, so byte-level
/// BPE reproduces the normalised text exactly. The function is idempotent.
/// </summary>
internal static class TextNormalization
{
    /// <summary>Name stored in tokenizer_config.json so a vocabulary records which normalisation it assumes.</summary>
    public const string Version = "nfc-ctrl-v1";

    /// <summary>Normalises <paramref name="text"/>; null gives the empty string.</summary>
    public static string Normalize(string? text)
    {
        if (string.IsNullOrEmpty(text)) return string.Empty;
        if (IsCleanAscii(text)) return text;

        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    // Plane-end noncharacters (U+1FFFE, U+10FFFF…) are rejected by .NET's NFC like U+FFFE.
                    if ((char.ConvertToUtf32(c, text[i + 1]) & 0xFFFE) == 0xFFFE) sb.Append('\uFFFD');
                    else sb.Append(c).Append(text[i + 1]);
                    i++;
                }
                else
                {
                    sb.Append('\uFFFD');
                }
            }
            else if (char.IsLowSurrogate(c))
            {
                sb.Append('\uFFFD');
            }
            else if (c is '\uFFFE' or '\uFFFF' or (>= '\uFDD0' and <= '\uFDEF'))
            {
                sb.Append('\uFFFD'); // noncharacters: .NET's normalisation throws on them (found by TokenizerFuzzTests)
            }
            else if (c == '\r')
            {
                sb.Append('\n');
                if (i + 1 < text.Length && text[i + 1] == '\n') i++;
            }
            else if (c == '\t' || c == '\n' || !char.IsControl(c))
            {
                sb.Append(c);
            }
        }

        string cleaned = sb.ToString();
        // NFC can only merge or reorder characters; it never introduces control characters or lone surrogates.
        return cleaned.IsNormalized(NormalizationForm.FormC) ? cleaned : cleaned.Normalize(NormalizationForm.FormC);
    }

    // Fast path: printable ASCII plus \t and \n is already normalised.
    private static bool IsCleanAscii(string text)
    {
        foreach (char c in text)
        {
            if (c >= 0x7F || (c < 0x20 && c != '\t' && c != '\n')) return false;
        }
        return true;
    }
}
