using MLNetForgetting.Evaluation;

namespace MLNetForgetting.Tests.Evaluation;

[TestClass]
public sealed class CipherEnglishTests
{
    [TestMethod]
    public void TheCipherIsABijectionOnEveryCharacterAndItsOwnInverse()
    {
        // Every UTF-16 code unit: the map is injective (so a bijection of the finite set) and an involution.
        var images = new HashSet<char>();
        for (int i = 0; i <= char.MaxValue; i++)
        {
            char c = (char)i, m = CipherEnglish.Map(c);
            Assert.IsTrue(images.Add(m), $"two characters map to U+{(int)m:X4}");
            Assert.AreEqual(c, CipherEnglish.Map(m), $"U+{i:X4} does not round-trip");
        }
    }

    [TestMethod]
    public void LettersAndDigitsMoveToCherokeeAndEverythingElseStays()
    {
        const string english = "The 3 cats sat on Zoë's mat, didn't they? 2024!";
        string ciphered = CipherEnglish.Apply(english)!;
        Assert.AreEqual(english.Length, ciphered.Length);
        Assert.IsFalse(ciphered.Any(c => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'), ciphered);
        for (int i = 0; i < english.Length; i++)
            if (!char.IsAsciiLetterOrDigit(english[i])) Assert.AreEqual(english[i], ciphered[i], $"position {i} changed");
        Assert.AreEqual('\u13A7', ciphered[1]);                   // 'h' is lower-case letter 7 (from 0)
        Assert.AreEqual(english, CipherEnglish.Apply(ciphered));
        Assert.IsNull(CipherEnglish.Apply(null));
        // Words stay words: the same word always gives the same ciphered word, different words differ.
        Assert.AreEqual(CipherEnglish.Apply("cat"), CipherEnglish.Apply("cats")![..3]);
        Assert.AreNotEqual(CipherEnglish.Apply("cat"), CipherEnglish.Apply("Cat"));
    }
}
