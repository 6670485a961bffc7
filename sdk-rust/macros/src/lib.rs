//! Attribute macros of `weft-sdk`: `#[loader]`, `#[transformer]`, `#[exporter]`, `#[sensor]`,
//! `#[condition]`, `#[dynamic]`, `#[callback]` export a plain function as the block's `run`;
//! `#[test_block]` marks a function that checks the block's output.

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parse_macro_input, Ident, ItemFn, Token};

/// `tests(a, b)` inside a kind attribute.
struct Args {
    tests: Vec<Ident>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Args { tests: Vec::new() });
        }
        let key: Ident = input.parse()?;
        if key != "tests" {
            return Err(syn::Error::new(key.span(), "expected `tests(fn_a, fn_b)`"));
        }
        let content;
        syn::parenthesized!(content in input);
        let list = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
        Ok(Args {
            tests: list.into_iter().collect(),
        })
    }
}

fn block(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(attr as Args);
    let func = parse_macro_input!(item as ItemFn);
    let name = &func.sig.ident;
    if func.sig.inputs.len() != 2 {
        return syn::Error::new_spanned(
            &func.sig,
            "a weft block function takes (ctx: &weft_sdk::Context, inputs: weft_sdk::Inputs)",
        )
        .to_compile_error()
        .into();
    }
    let tests = &args.tests;
    let test_names: Vec<String> = tests.iter().map(|t| t.to_string()).collect();
    quote! {
        #func

        #[doc(hidden)]
        struct __WeftBlock;

        impl ::weft_sdk::bindings::Guest for __WeftBlock {
            fn run(
                config: ::std::string::String,
                inputs: ::std::vec::Vec<(::std::string::String, ::weft_sdk::bindings::weft::block::types::Table)>,
            ) -> ::std::result::Result<
                ::std::option::Option<::weft_sdk::bindings::weft::block::types::Table>,
                ::weft_sdk::bindings::weft::block::types::Error,
            > {
                ::weft_sdk::__private::run(config, inputs, #name)
            }

            fn tests() -> ::std::vec::Vec<::std::string::String> {
                ::std::vec![#(::std::string::String::from(#test_names)),*]
            }

            fn run_test(
                name: ::std::string::String,
                output: &::weft_sdk::bindings::weft::block::types::Table,
            ) -> ::std::result::Result<(), ::std::string::String> {
                let tests: &[(&str, fn(&::weft_sdk::Table) -> ::weft_sdk::Result<()>)] =
                    &[#((#test_names, #tests)),*];
                ::weft_sdk::__private::run_test(&name, output, tests)
            }
        }

        ::weft_sdk::bindings::export!(__WeftBlock with_types_in ::weft_sdk::bindings);
    }
    .into()
}

/// Export the function as a loader block: `fn(&Context, Inputs) -> Result<impl IntoOutput>`.
///
/// ```ignore
/// #[loader(tests(has_rows))]
/// fn load(ctx: &Context, _inputs: Inputs) -> Result<RecordBatch> { /* ... */ }
/// ```
#[proc_macro_attribute]
pub fn loader(attr: TokenStream, item: TokenStream) -> TokenStream {
    block(attr, item)
}

/// Export the function as a transformer block.
///
/// ```ignore
/// #[transformer]
/// fn clean(ctx: &Context, inputs: Inputs) -> Result<RecordBatch> {
///     let batch = inputs.first()?.to_batch()?;
///     Ok(batch)
/// }
/// ```
#[proc_macro_attribute]
pub fn transformer(attr: TokenStream, item: TokenStream) -> TokenStream {
    block(attr, item)
}

/// Export the function as an exporter block.
///
/// ```ignore
/// #[exporter]
/// fn export(ctx: &Context, inputs: Inputs) -> Result<()> { Ok(()) }
/// ```
#[proc_macro_attribute]
pub fn exporter(attr: TokenStream, item: TokenStream) -> TokenStream {
    block(attr, item)
}

/// Export the function as a sensor block (answers a one-row boolean table).
#[proc_macro_attribute]
pub fn sensor(attr: TokenStream, item: TokenStream) -> TokenStream {
    block(attr, item)
}

/// Export the function as a condition block (answers a one-row boolean table).
#[proc_macro_attribute]
pub fn condition(attr: TokenStream, item: TokenStream) -> TokenStream {
    block(attr, item)
}

/// Export the function as a dynamic block (each output row becomes a child run).
#[proc_macro_attribute]
pub fn dynamic(attr: TokenStream, item: TokenStream) -> TokenStream {
    block(attr, item)
}

/// Export the function as a callback block.
#[proc_macro_attribute]
pub fn callback(attr: TokenStream, item: TokenStream) -> TokenStream {
    block(attr, item)
}

/// Mark a test over the block's output: `fn(&Table) -> Result<()>`. List it in the block's
/// attribute, `#[transformer(tests(my_test))]`, to have the host run it after each success.
///
/// ```ignore
/// #[test_block]
/// fn my_test(output: &Table) -> Result<()> {
///     ensure(output.num_rows() > 0, "no rows")
/// }
/// ```
#[proc_macro_attribute]
pub fn test_block(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let func = parse_macro_input!(item as ItemFn);
    if func.sig.inputs.len() != 1 {
        return syn::Error::new_spanned(&func.sig, "a block test takes (output: &weft_sdk::Table)")
            .to_compile_error()
            .into();
    }
    quote!(#func).into()
}
