/**
 * Stands in for `@pdf-lib/standard-fonts` in the Textract handler bundle (`--alias` in .projenrc.ts).
 *
 * The preflight uses only pdf-lib's parser, and on that path pdf-lib needs only this list of the
 * 14 standard font names; the real package also carries the fonts' metrics (130 KiB of the bundle,
 * parsed on every cold start). Anything else imported from the package fails the bundle build
 * ("No matching export"), so a pdf-lib upgrade that needs more cannot slip through silently.
 * Not used by Node, jest or the local runner, which load the real package.
 */
export enum FontNames {
  Courier = 'Courier',
  CourierBold = 'Courier-Bold',
  CourierOblique = 'Courier-Oblique',
  CourierBoldOblique = 'Courier-BoldOblique',
  Helvetica = 'Helvetica',
  HelveticaBold = 'Helvetica-Bold',
  HelveticaOblique = 'Helvetica-Oblique',
  HelveticaBoldOblique = 'Helvetica-BoldOblique',
  TimesRoman = 'Times-Roman',
  TimesRomanBold = 'Times-Bold',
  TimesRomanItalic = 'Times-Italic',
  TimesRomanBoldItalic = 'Times-BoldItalic',
  Symbol = 'Symbol',
  ZapfDingbats = 'ZapfDingbats',
}
