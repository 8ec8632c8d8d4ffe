using Microsoft.ML.Tokenizers;
using static MLNetForgetting.Text.TokenizerFiles;

namespace MLNetForgetting.Text;

/// <summary>Kind "tiktoken": an encoding by name; only its name is stored. Our five roles follow its last id.</summary>
internal static class TiktokenKind
{
    public static SubwordTokenizer Load(TokenizerConfig config) => Create(config.String("encoding") ?? "");

    public static SubwordTokenizer Create(string encodingName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(encodingName);
        TiktokenTokenizer tokenizer = TiktokenTokenizer.CreateForEncoding(encodingName);
        // The mergeable ranks are not exposed; tiktoken's own special tokens sit after them, so the
        // highest special id bounds every id the encoder can produce.
        IReadOnlyDictionary<string, int> own = tokenizer.SpecialTokens is { Count: > 0 } s
            ? s : throw new NotSupportedException($"tiktoken encoding '{encodingName}' has no special tokens, so its vocabulary size is unknown.");
        int baseSize = own.Values.Max() + 1;
        var tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in own) tokenToId[token] = id;
        var specials = SubwordTokenizer.AppendMissingSpecials(baseSize, tokenToId, null, null, null, null, null, out int vocabSize);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [ConfigFile] = WriteConfig(TokenizerKind.Tiktoken, w => w.WriteString("encoding", encodingName)),
        };
        return new SubwordTokenizer(TokenizerKind.Tiktoken, new TiktokenEncoder(tokenizer), vocabSize, tokenToId, specials, files, lossless: true);
    }
}
