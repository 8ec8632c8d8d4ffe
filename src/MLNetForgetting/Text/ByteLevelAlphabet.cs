namespace MLNetForgetting.Text;

/// <summary>
/// GPT-2 / RoBERTa byte-to-unicode mapping: each of the 256 byte values is shown as one printable
/// character (printable Latin-1 bytes map to themselves, the rest to U+0100 onwards, so a space is 'Ġ').
/// Microsoft.ML.Tokenizers' <c>BpeTokenizer</c> with <c>ByteLevel = true</c> applies the same mapping,
/// which is what lets our trained vocab.json and merges.txt load there unchanged.
/// </summary>
internal static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = BuildByteToChar();
    public static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var assigned = new bool[256];
        void Keep(int from, int to)
        {
            for (int b = from; b <= to; b++) { map[b] = (char)b; assigned[b] = true; }
        }
        Keep('!', '~');
        Keep(0xA1, 0xAC);
        Keep(0xAE, 0xFF);
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!assigned[b]) map[b] = (char)(256 + n++);
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var d = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) d.Add(ByteToChar[b], (byte)b);
        return d;
    }

    /// <summary>UTF-8 bytes of <paramref name="text"/> written as byte-level characters.</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text.ToArray());
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }
}
