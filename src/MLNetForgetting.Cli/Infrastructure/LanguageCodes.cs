using System.Globalization;
using MLNetForgetting.Synthetic;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>Checks language codes given on the command line: ISO 639 codes the runtime knows, or a synthetic testbed language.</summary>
public static class LanguageCodes
{
    private static readonly Lazy<IReadOnlyList<string>> SyntheticCodes = new(() => new SyntheticTestbed().Languages.Select(l => l.Code).ToArray());

    private static readonly Lazy<HashSet<string>> Known = new(() =>
    {
        var codes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in CultureInfo.GetCultures(CultureTypes.NeutralCultures))
        {
            if (c.TwoLetterISOLanguageName.Length == 2) codes.Add(c.TwoLetterISOLanguageName);
            if (c.ThreeLetterISOLanguageName.Length == 3) codes.Add(c.ThreeLetterISOLanguageName);
        }
        // The XNLI languages, in case the runtime runs without ICU data.
        foreach (var c in "ar bg de el en es fr hi ru sw th tr ur vi zh".Split(' ')) codes.Add(c);
        codes.UnionWith(SyntheticCodes.Value);
        return codes;
    });

    /// <summary>The synthetic testbed's language codes (English first).</summary>
    public static IReadOnlyList<string> Synthetic => SyntheticCodes.Value;

    /// <summary>True when <paramref name="code"/> is a known code (any case).</summary>
    public static bool IsKnown(string code) => Known.Value.Contains(code.Trim().ToLowerInvariant());

    /// <summary>Returns the lower-cased code, or throws naming <paramref name="option"/> and what is accepted.</summary>
    public static string Check(string? code, string option)
    {
        string c = (code ?? "").Trim().ToLowerInvariant();
        if (!Known.Value.Contains(c))
            throw new CliUsageException($"unknown language code '{code}' in {option}; expected an ISO 639 code such as de, sw or zh, or a synthetic language ({string.Join(", ", Synthetic)})");
        return c;
    }
}
