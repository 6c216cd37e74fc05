import type { FieldRole } from '../core/types.js';

/**
 * Header spellings of the exports people bring, by what the column means (matched case- and punctuation-
 * insensitively, after each target's own aliases). Sources: the column names of Mailchimp audience exports, Google
 * Contacts (old and new CSV), Outlook, ActionNetwork, NationBuilder and EveryAction (VAN) exports, and the plain
 * German, French, Spanish, Portuguese and Dutch headers of spreadsheets saved from Excel.
 * Deliberately absent: Mailchimp's REGION and CC (where the subscriber's IP was, not an address) and its combined
 * "Address" (split by the mapper, not matched to a street); Google's "Address 1 - Formatted" (the whole address).
 */
export const EXPORT_HEADERS: Partial<Record<FieldRole, string[]>> = {
  email: ['email address', 'e-mail address', 'e-mail 1 - value', 'e-mail 1 value', 'email 1', 'preferred email', 'personal email', 'primary email address', 'e-mail-adresse', 'courriel', 'adresse e-mail', 'correo electrónico', 'correo'],
  title: ['name prefix', 'anrede', 'civilité'],
  firstName: ['given name', 'first_name', 'vorname', 'prénom', 'nombre', 'voornaam'],
  middleName: ['middle name', 'additional name'],
  lastName: ['family name', 'last_name', 'surname', 'nachname', 'familienname', 'nom', 'nom de famille', 'apellido', 'apellidos', 'sobrenome', 'achternaam'],
  suffix: ['name suffix'],
  street1: ['address 1 - street', 'home street', 'primary_address1', 'can2_user_address', 'address line 1', 'mailing street', 'address_line_1', 'straße', 'strasse', 'adresse', 'dirección', 'morada', 'straat'],
  street2: ['address 1 - extended address', 'home street 2', 'primary_address2', 'address line 2', 'address_line_2', 'adresszusatz', "complément d'adresse"],
  city: ['address 1 - city', 'home city', 'primary_city', 'can2_user_city', 'mailing city', 'ort', 'stadt', 'ville', 'ciudad', 'cidade', 'localidade', 'plaats', 'woonplaats'],
  state: ['address 1 - region', 'home state', 'primary_state', 'can2_state_abbreviated', 'mailing state', 'state/province', 'bundesland', 'provincia'],
  postalCode: ['address 1 - postal code', 'home postal code', 'primary_zip', 'zip_code', 'zip5', 'mailing zip', 'mailing postal code', 'postal_code', 'plz', 'postleitzahl', 'code postal', 'código postal', 'codigo postal', 'postcode'],
  country: ['address 1 - country', 'home country/region', 'home country', 'primary_country_code', 'primary_country', 'can2_country', 'mailing country', 'land', 'pays', 'país', 'pais'],
  homePhone: ['phone 1 - value', 'home phone', 'phone_number', 'can2_phone', 'primary phone', 'telefon', 'téléphone', 'teléfono', 'telefone', 'telefoon'],
  mobilePhone: ['mobile phone', 'mobile_number', 'mobile number', 'can2_sms_phone', 'cell phone', 'cellphone', 'handy', 'mobiltelefon', 'portable', 'móvil', 'celular', 'telemóvel', 'mobiel'],
  workPhone: ['business phone', 'work_phone_number', 'work phone'],
  birthDate: ['born_at', 'birthday', 'date of birth', 'geburtsdatum', 'geburtstag', 'date de naissance', 'fecha de nacimiento', 'data de nascimento', 'geboortedatum'],
  gender: ['sex', 'geschlecht', 'sexe', 'sexo', 'género', 'geslacht'],
  externalId: ['external_id'],
};
