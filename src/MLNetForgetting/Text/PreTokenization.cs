using System.Text.RegularExpressions;

namespace MLNetForgetting.Text;

/// <summary>
/// GPT-2/RoBERTa-style pre-tokenisation shared by the trainer and the encoder. A single leading space
/// stays attached to the following word, so " great" and "great" are different tokens. Unlike GPT-2,
/// combining marks (\p{M}) count as letters, so Devanagari matras and Thai vowel signs stay inside words.
/// Every character is matched by some alternative, so splitting never loses text.
/// </summary>
internal static class PreTokenization
{
    public const string Name = "gpt2-letters-marks-v1";

    public const string Pattern =
        @"'s|'t|'re|'ve|'m|'ll|'d| ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|\s+(?!\S)|\s+";

    public static readonly Regex Regex = new(Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>Name of GPT-2's own pattern (OpenAI's encoder.py; Hugging Face's RoBERTa and GPT-2 tokenizers), used for their vocabularies.</summary>
    public const string Gpt2Name = "gpt2";

    /// <summary>GPT-2's pattern: as <see cref="Pattern"/> but combining marks are not letters.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public static readonly Regex Gpt2Regex = new(Gpt2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
}
