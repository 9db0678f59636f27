//! Renders documents and reads them back: the PDF through poppler-utils (`pdftotext`,
//! `pdffonts`; deploy/local/install-deps.sh installs them and the font), the HTML as text.
//! One test binary for the crate (see shared STYLE: tests compile into one binary).

mod helpers;
mod html;
mod pdf;
mod props;
