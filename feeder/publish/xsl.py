"""The XSL stylesheet written to ``<out>/static/feed.xsl``.

RSS and Atom files reference it with an ``xml-stylesheet`` instruction, so that a browser opening
a feed shows a readable page with a "subscribe" hint instead of raw XML. Kept as a Python string
rather than package data, so a plain (non-editable) install cannot lose it.

One stylesheet handles both formats. It only uses XSLT 1.0 and no ``disable-output-escaping``
(Firefox ignores it), so item content is shown as the plain summary, not as HTML.
"""

STYLESHEET = """\
<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
  <xsl:output method="html" encoding="UTF-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <html>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="rss/channel/title | atom:feed/atom:title"/> (feed)</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 48rem;
                 padding: 0 1rem; }
          .note { background: #fffbe6; border: 1px solid #eedc82; padding: .6rem 1rem; }
          .meta { color: #555; font-size: .9rem; }
          article { border-bottom: 1px solid #ddd; padding: .8rem 0; }
          h2 { font-size: 1.15rem; margin: 0 0 .2rem; }
        </style>
      </head>
      <body>
        <p class="note">This is a web feed. Copy its address into your feed reader to
          subscribe. <a href="../">All feeds</a></p>
        <xsl:apply-templates select="rss/channel | atom:feed"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="channel">
    <h1><a href="{link}"><xsl:value-of select="title"/></a></h1>
    <p><xsl:value-of select="description"/></p>
    <xsl:for-each select="item">
      <article>
        <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
        <p class="meta">
          <xsl:value-of select="pubDate"/>
          <xsl:for-each select="dc:creator"> · <xsl:value-of select="."/></xsl:for-each>
        </p>
        <xsl:if test="enclosure">
          <img src="{enclosure/@url}" alt="" style="max-width: 100%"/>
        </xsl:if>
      </article>
    </xsl:for-each>
  </xsl:template>

  <xsl:template match="atom:feed">
    <h1><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h1>
    <p><xsl:value-of select="atom:subtitle"/></p>
    <xsl:for-each select="atom:entry">
      <article>
        <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/>
        </a></h2>
        <p class="meta">
          <xsl:value-of select="atom:published"/>
          <xsl:for-each select="atom:author"> · <xsl:value-of select="atom:name"/></xsl:for-each>
        </p>
        <xsl:if test="atom:summary"><p><xsl:value-of select="atom:summary"/></p></xsl:if>
      </article>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>
"""
