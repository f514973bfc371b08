using NUnit.Framework;

namespace RxHttp.Tests.Cookies;

public class CookieDateTests
{
    private static readonly object[] Valid =
    {
        new object[] { "Wed, 09 Jun 2021 10:18:14 GMT", new DateTime(2021, 6, 9, 10, 18, 14) },      // RFC 1123
        new object[] { "Wednesday, 09-Jun-21 10:18:14 GMT", new DateTime(2021, 6, 9, 10, 18, 14) },  // RFC 850
        new object[] { "Sun Nov  6 08:49:37 1994", new DateTime(1994, 11, 6, 8, 49, 37) },            // asctime
        new object[] { "Thu, 01-Jan-1970 00:00:01 GMT", new DateTime(1970, 1, 1, 0, 0, 1) },
        new object[] { "Sun, 06 Nov 94 08:49:37 GMT", new DateTime(1994, 11, 6, 8, 49, 37) },         // 2-digit year 70-99
        new object[] { "Sun, 06 Nov 69 08:49:37 GMT", new DateTime(2069, 11, 6, 8, 49, 37) },         // 2-digit year 0-69
        new object[] { "09 JUNE 2021 1:2:3", new DateTime(2021, 6, 9, 1, 2, 3) },                     // case, long month, 1-digit time
        new object[] { "Jun 9 2021 10:18:14 +0000", new DateTime(2021, 6, 9, 10, 18, 14) },
        new object[] { "Wed, 29 Feb 2024 23:59:59 GMT", new DateTime(2024, 2, 29, 23, 59, 59) },
    };

    [TestCaseSource(nameof(Valid))]
    public void Parses_the_forms_RFC_6265_accepts(string text, DateTime expectedUtc) =>
        Assert.That(CookieDate.Parse(text), Is.EqualTo(new DateTimeOffset(expectedUtc, TimeSpan.Zero)));

    [TestCase("")]
    [TestCase("garbage")]
    [TestCase("Wed, 09 Jun 2021")]                      // no time
    [TestCase("Wed, 09 2021 10:18:14 GMT")]             // no month
    [TestCase("Wed, 30 Feb 2021 10:18:14 GMT")]         // no such day
    [TestCase("Wed, 32 Jun 2021 10:18:14 GMT")]
    [TestCase("Wed, 09 Jun 1600 10:18:14 GMT")]         // before 1601
    [TestCase("Wed, 09 Jun 2021 24:00:00 GMT")]
    [TestCase("Wed, 09 Jun 2021 10:60:00 GMT")]
    [TestCase("Wed, 09 Jun 2021 10:18:60 GMT")]
    [TestCase("2021-06-09T10:18:14Z")]
    public void Rejects_what_is_not_a_cookie_date(string text) => Assert.That(CookieDate.Parse(text), Is.Null);
}
